"""OTP writes: the only code that changes challenges or talks to Smartflo for them."""

from otp.services.delivery import DeliveryOutcome, otp_challenge_deliver
from otp.services.maintenance import otp_challenges_expire
from otp.services.sending import otp_send, otp_ttl
from otp.services.transitions import Failure, IllegalTransition, otp_challenge_transition
from otp.services.verification import otp_verify

__all__ = [
    "DeliveryOutcome",
    "Failure",
    "IllegalTransition",
    "otp_challenge_deliver",
    "otp_challenge_transition",
    "otp_challenges_expire",
    "otp_send",
    "otp_ttl",
    "otp_verify",
]
