"""Portuguese: keywords, weak opt-out words, fillers, phrase rules, short replies and
the negations and question words read around a phrase."""

from __future__ import annotations

from optline.domain.policy import Intent, KeywordSet
from optline.domain.vocabulary.phrase import Phrase, phrase

_OUT = Intent.OPT_OUT
_MAYBE = Intent.POSSIBLE_OPT_OUT
_IN = Intent.OPT_IN

# -- keywords (whole message) -----------------------------------------------------------

#: The Portuguese words people text to carriers' short codes.
KEYWORDS = KeywordSet.of(
    opt_out=("SAIR", "PARAR", "PARE", "CANCELAR", "DESCADASTRAR", "REMOVER"),
    opt_in=("ATIVAR", "VOLTAR"),
    help=("AJUDA",),
)

#: Opt-out keywords that are also common words ("vou sair agora"); "parar", "pare" and
#: "cancelar" are Spanish keywords too.
WEAK_OPT_OUT = frozenset({"sair", "remover", "parar", "pare", "cancelar"})

# -- fillers ----------------------------------------------------------------------------

#: "por favor" (typed "pfv"), "obrigado" ("sim": yes).
FILLERS = frozenset({"por", "favor", "pfv", "obrigado", "obrigada", "sim"})

# -- phrases ----------------------------------------------------------------------------

PHRASES: tuple[Phrase, ...] = (
    phrase(
        # "Cancelei por engano": an earlier opt-out told as a slip.
        "conta uma saida por engano",
        Intent.NONE,
        r"\b(?:cancelei|sai|me descadastrei|(?:mandei|enviei|escrevi|respondi) (?:stop|parar"
        r"|sair)) (?:por engano|sem querer|por erro|por acidente)\b",
        "engano querer erro acidente",
        negatable=False,
    ),
    phrase(
        "pede para parar",
        _OUT,
        r"\bnao (?:quero|desejo) (?:mais )?(?:voltar a )?(?:receber )?(?:mais )?"
        r"(?:mensagens|sms|textos)\b"
        r"|\bchega de (?:mensagens?|sms|textos|spam|promocoes|me (?:mandar|enviar|incomodar)"
        r"|mandar|enviar)\b"
        r"|\bnao me (?:mandem|mande|enviem|envie) mais\b"
        # "Favor não entrar mais em contato": no more contact.
        r"|\b(?:nao|parem de|pare de|para de) (?:me )?(?:entrar|entrem|entre|entra)(?: mais)?"
        r" em contato(?: comigo)?\b(?! (?:com|para|sobre|amanha|hoje)\b)"
        r"|\bnao (?:mandem|mande|enviem|envie) mais (?:msg|msgs|mensagem|mensagens|sms|textos)\b"
        r"|\b(?:cancelar|parar|pare) (?:o recebimento (?:de|das|dos) )?(?:as |os |de )?"
        r"(?:mensagens|sms|textos)\b",
        "nao pare cancelar parar chega parem para",
        negatable=False,
    ),
    phrase(
        # "Para" is also "for": tried only with a verb of sending. "Não parem de
        # mandar os lembretes" asks for more texts, not fewer.
        "pede para parar de mandar",
        _OUT,
        r"\bpar(?<!\bnao par)(?<!\bnunca par)(?:a|e|em) de (?:me )?"
        r"(?:enviar|mandar|escrever|incomodar)\b",
        "para pare parem",
        negatable=False,
        needs="enviar mandar escrever incomodar",
    ),
    phrase(
        "pede para sair da lista",
        _OUT,
        r"\bme (?:tira|tire|tirem|remova|removam|retire|retirem|exclua|excluam) "
        r"(?:da|dessa|desta|das|dessas|destas) (?:(?:sua|vossa) )?listas?\b"
        r"|\b(?:remove|remova|removam|remover|apague|apaguem|apagar|exclua|excluam|excluir|delete"
        r"|deletem|tire|tirem|tira) (?:o )?meu (?:numero|contato|telefone|cadastro)\b"
        r"|\bdescadastrar\b|\b(?:me )?deix(?:em|e|a)(?: me)? em paz\b",
        "tira tire tirem remove remova removam retire retirem exclua excluam remover apague "
        "apaguem apagar excluir delete deletem descadastrar deixem deixe deixa",
    ),
    phrase(
        "recusa",
        _MAYBE,
        # "Não" as a clause of its own ("Não cancela minha consulta" refuses nothing).
        r"\bnao tenho interesse\b|\bnumero errado\b|^nao(?= \|)"
        r"|\bmuitas? (?:mensagem|mensagens|sms)\b|\b(?:mensagem|mensagens|sms) demais\b"
        # "Como vocês conseguiram meu número?": never signed up, may mean stop.
        r"|\bcomo (?:voces |voce )?(?:conseguiram|conseguiu|obtiveram|pegaram|pegou|arrumaram"
        r") (?:o )?(?:meu|este|esse) (?:numero|telefone|contato)\b",
        "interesse errado nao muita muitas demais como",
    ),
    phrase(
        "pede para voltar a receber",
        _IN,
        r"\b(?:quero|gostaria de|desejo)(?<!\bnao quero)(?<!\bnao desejo) (?:voltar a )?"
        r"receber (?:de novo |novamente )?(?:(?:as|os|suas|seus) )?(?:mensagens|sms|textos"
        r"|ofertas|lembretes|promocoes)\b",
        "quero gostaria desejo",
        negatable=False,
        needs="receber",
    ),
    phrase(
        "pergunta pelo servico",
        Intent.HELP,
        r"\bque (?:servico|programa|mensagens?|sms|lista|clube) (?:e|sao) (?:esse|essa|esses"
        r"|essas|este|esta|estes|estas)(?= \||$)"
        r"|\bo que (?:e|sao) (?:esse|essa|esses|essas|este|esta|estes|estas) (?:servico"
        r"|programa|mensagens|sms|lista|clube)(?= \||$)"
        # "Como falo com o suporte sobre essas mensagens?".
        r"|\bcomo (?:falo|entro em contato|contato) (?:com|o|a) (?:o |a )?(?:suporte|atendimento"
        r"|atendente|alguem) (?:sobre|dessas|destas|das) (?:essas |estas |as )?(?:mensagens|sms)\b",
        "que como",
        negatable=False,
        needs="servico programa mensagem mensagens sms lista clube",
    ),
)

# -- short replies ----------------------------------------------------------------------

SHORT_REPLIES: dict[str, Intent] = {
    **dict.fromkeys(("quem e", "quem fala", "o que e isso", "mais informacoes"), Intent.HELP),
    **dict.fromkeys(
        ("quero me cadastrar", "quero me inscrever", "me cadastre", "me inscreva"), _IN
    ),
}

POSSIBLE_REPLIES = frozenset({"nao"})

# -- context words ----------------------------------------------------------------------

NEGATORS = frozenset({"nunca"})
#: "como".
QUESTION_WORDS = frozenset({"como"})
