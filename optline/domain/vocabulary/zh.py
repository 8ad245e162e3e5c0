"""Chinese: keywords and phrase rules. Chinese is written without spaces, so a reply is
one "word": the phrase rules have no anchor words and are tried on any text with
ideographs; what they miss is the learned stage's (optline.domain.learned)."""

from __future__ import annotations

from optline.domain.policy import Intent, KeywordSet
from optline.domain.vocabulary.phrase import Phrase, phrase

#: 退订 (unsubscribe) and its initials TD, the reply Chinese marketing texts ask for;
#: 取消订阅 (cancel the subscription), 拒收 (refuse delivery), 停止 (stop); 订阅 and
#: 重新订阅 (subscribe, subscribe again); 帮助 (help).
KEYWORDS = KeywordSet.of(
    opt_out=("退订", "TD", "取消订阅", "拒收", "停止"),
    opt_in=("订阅", "重新订阅"),
    help=("帮助",),
)

# -- phrases ----------------------------------------------------------------------------

_OUT = Intent.OPT_OUT
_MAYBE = Intent.POSSIBLE_OPT_OUT
# Not after a negation (不, 别, 不要: "不要退订" is "don't unsubscribe me"), nor a "how"
# (怎么, 如何, 怎样), which makes it the question below, nor a slip (误点了: "tapped by
# mistake").
_NOT_AFTER = (
    r"(?<!不)(?<!别)(?<!不要)(?<!怎么)(?<!如何)(?<!怎样)(?<!怎么样)(?<!误点了)(?<!误发了)"
    r"(?<!误回了)(?<!不要给我)(?<!别给我)(?<!不要帮我)(?<!别帮我)"
)
# Not "退订了" (unsubscribed, reported: "我不小心退订了，请恢复"), nor leaving the emails.
_NOT_REPORTED = r"(?!了|邮件|电子邮件|邮箱)"
# What is sent: texts, messages, ads, pushes (simplified and traditional); or the end.
_SENT = (
    r"(?:\S{0,4}(?:短信|简讯|簡訊|信息|訊息|消息|广告|廣告|推送|通知)|这些|這些|了|给我|給我"
    r"|(?= \||$))"
)

#: Chinese is written without spaces, so these rules have no anchor words: the detector
#: tries them on every text with two ideographs in a row (detect.Detector). Simplified
#: and traditional characters both.
PHRASES: tuple[Phrase, ...] = (
    phrase(
        "问怎么退订",
        _MAYBE,
        r"(?:怎么|如何|怎样|怎么样|怎麼)(?:才能|可以|能)?(?:退订|退訂|取消订阅|取消訂閱|取消短信)",
        "",
        negatable=False,
    ),
    phrase(
        "要求停止发送",
        _OUT,
        # "我已经说过退订了": an earlier opt-out restated.
        r"(?:说过|回复过|回过|发过|回复了)(?:退订|退訂|退定|td)"
        # 退定: 退订 typed with its sound-alike 定.
        rf"|{_NOT_AFTER}(?:退订|退訂|退定|取消(?:我的|短信)?(?:订阅|訂閱)|拒收|拒绝接收){_NOT_REPORTED}"
        r"|取消(?:这个|此)?短信(?:服务|通知)"
        rf"|停止(?:向\S{{0,6}})?(?:发送|發送|传送|傳送|发|推送|给我发|联系|聯絡|打扰){_SENT}?"
        r"|(?:^|\| )(?:请|請)?停止(?= \||$)"
        rf"|(?:不要|别|別|请勿|請勿|勿|不用|不必)再?(?:给我|給我|向我|跟我)?(?:发|發|传|傳|推送){_SENT}"
        r"|(?:不要|别|別|请勿|請勿|勿)再?(?:打扰|打擾|骚扰|騷擾|联系|聯絡|联络)(?:我|本人)?"
        r"|(?:^|\| )(?:我)?不要(?:再)?(?:广告|廣告|短信|簡訊|推销|推銷)"
        r"|不(?:想|愿意|希望)再?(?:收到|接收|收)"
        r"|关闭(?:短信|通知|提醒|推送)|關閉(?:簡訊|通知|提醒|推送)"
        r"|拉黑|再发(?:我)?就(?:投诉|举报|报警)"
        r"|(?:删除|删掉|移除|刪除)(?:我的)?(?:号码|號碼|手机号|电话)"
        r"|(?:把|将|將)(?:我(?:的)?(?:号码|號碼|手机号|手機號)?|(?:这个|這個|此)(?:号码|號碼|手机号|手機號))\S{0,14}(?:删除|删掉|刪除|移除|移出|去掉)"
        r"|移出(?:短信)?(?:名单|列表)"
        r"|撤回\S{0,8}(?:同意|授权)",
        "",
        negatable=False,
    ),
    phrase(
        # A wrong number, no interest, too many texts, never signed up: may mean stop.
        "打错或不感兴趣",
        _MAYBE,
        r"打错(?:了|人)|发错(?:人|号码|號碼)|(?:不|没|沒)(?:感)?兴趣|(?:不|沒)(?:感)?興趣"
        r"|短信太多|太多短信|簡訊太多"
        r"|(?:我|本人)(?:从来|從來)?(?:都)?(?:没有?|沒有?)(?:注册|註冊|订阅|訂閱)(?:过|過)",
        "",
        negatable=False,
    ),
)
