"""Chinese: keywords only. Chinese is written without spaces, so a reply is one "word"
to the phrase rules; longer Chinese replies are the learned stage's
(optline.domain.learned), trained on the Chinese replies under ``tests/data/replies/``."""

from __future__ import annotations

from optline.domain.policy import KeywordSet

#: 退订 (unsubscribe) and its initials TD, the reply Chinese marketing texts ask for;
#: 取消订阅 (cancel the subscription), 拒收 (refuse delivery), 停止 (stop); 订阅 and
#: 重新订阅 (subscribe, subscribe again); 帮助 (help).
KEYWORDS = KeywordSet.of(
    opt_out=("退订", "TD", "取消订阅", "拒收", "停止"),
    opt_in=("订阅", "重新订阅"),
    help=("帮助",),
)
