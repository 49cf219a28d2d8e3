"""Constants and helpers shared by the registry tests (importable, unlike conftest.py)."""

from offnet.market.registry import ACCESS_ELINE, Profile

APPLICATION_TTL = 14 * 24 * 3600
SPONSORS_REQUIRED = 2
COUNCIL_THRESHOLD = 2


def sample_profile(name: str = "Carrier Example", countries: tuple[str, ...] = ("FR", "DE")) -> Profile:
    return Profile(
        name=name,
        sonata_url=f"https://sonata.{name.lower().replace(' ', '-')}.example",
        products=(ACCESS_ELINE,),
        countries=countries,
    )
