"""optline: an SMS consent engine."""

from optline.domain.classify import Classification, classify
from optline.domain.policy import Intent, Policy
from optline.domain.profiles import PROFILES, get_profile

__all__ = ["PROFILES", "Classification", "Intent", "Policy", "classify", "get_profile"]
