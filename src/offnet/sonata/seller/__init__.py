"""The reference Sonata seller: what the demo and the tests trade with, and what a carrier can use
to test its own integration (``offnet sonata seller``)."""

from offnet.exceptions import SellerError
from offnet.sonata.seller.app import SellerAuth, create_seller_app, run_seller
from offnet.sonata.seller.clock import Clock, SimulatedClock
from offnet.sonata.seller.engine import SellerEngine
from offnet.sonata.seller.profiles import PRESETS, BehaviourProfile, get_profile

__all__ = [
    "PRESETS",
    "BehaviourProfile",
    "Clock",
    "SellerAuth",
    "SellerEngine",
    "SellerError",
    "SimulatedClock",
    "create_seller_app",
    "get_profile",
    "run_seller",
]
