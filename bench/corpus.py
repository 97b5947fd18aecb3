"""Realistic JSON records for the benchmark, reproducible from a seed.

What JSONBin-style bins usually hold: lists of users with addresses and preferences, orders with
line items, product catalogues with tags and free text, event logs. Values are drawn from small
vocabularies (names, cities, tags, products: repeated, as in real data) mixed with
high-entropy fields (UUIDs, e-mails, phone numbers, amounts, timestamps), so the corpus neither
flatters nor penalises compression. Records are compact JSON (what ``JSON.stringify`` sends).
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

FIRST = (
    "James Mary John Patricia Robert Jennifer Michael Linda William Elizabeth David Barbara "
    "Richard Susan Joseph Jessica Thomas Sarah Charles Karen Daniel Nancy Matthew Lisa Anthony "
    "Betty Mark Margaret Donald Sandra Steven Ashley Paul Kimberly Andrew Emily Joshua Donna "
    "Kenneth Michelle Kevin Carol Brian Amanda George Melissa Timothy Deborah Wei Aisha Mateo "
    "Sofia Hiroshi Yuki Olga Ivan Fatima Omar Priya Arjun Chloe Lucas Emma Noah Mia Liam"
).split()
LAST = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez "
    "Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris "
    "Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill "
    "Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Kowalski Novak "
    "Tanaka Sato Muller Schmidt Rossi Russo Dubois Moreau Silva Santos Kim Park Chen Wang Singh"
).split()
STREETS = (
    "Main St|Oak Ave|Maple Dr|Cedar Ln|Pine St|Elm St|Washington Blvd|Lake View Rd|Hillside Ave|"
    "Park Pl|River Rd|Sunset Blvd|Highland Ave|Church St|Mill Rd|Spring St|Ridge Rd|Meadow Ln|"
    "Forest Dr|Broadway|2nd St|3rd Ave|Market St|Union Sq|Harbor Way|Bay St|College Ave"
).split("|")
CITIES = (
    ("Springfield", "IL", "62701"), ("Portland", "OR", "97201"), ("Austin", "TX", "73301"),
    ("Denver", "CO", "80201"), ("Boston", "MA", "02108"), ("Seattle", "WA", "98101"),
    ("Madison", "WI", "53703"), ("Raleigh", "NC", "27601"), ("Phoenix", "AZ", "85001"),
    ("Columbus", "OH", "43004"), ("Nashville", "TN", "37201"), ("Boise", "ID", "83702"),
    ("Richmond", "VA", "23218"), ("Omaha", "NE", "68102"), ("Tampa", "FL", "33601"),
    ("Salem", "OR", "97301"), ("Albany", "NY", "12207"), ("Fresno", "CA", "93650"),
)  # fmt: skip
DOMAINS = ("example.com", "mail.example.org", "corp.example.net", "inbox.example.io")
TAGS = (
    "vip new returning wholesale retail newsletter beta churn-risk loyalty gold silver bronze "
    "mobile desktop eu us apac referral trial enterprise startup nonprofit edu gov partner "
    "priority low-touch high-touch self-serve annual monthly"
).split()
PRODUCTS = (
    "Wireless Mouse|Mechanical Keyboard|USB-C Hub|27in Monitor|Laptop Stand|Noise Cancelling "
    "Headphones|Webcam HD|Desk Lamp|Ergonomic Chair|Standing Desk|Portable SSD 1TB|HDMI Cable 2m|"
    "Phone Charger|Bluetooth Speaker|Smart Watch|Fitness Tracker|Coffee Grinder|French Press|"
    "Water Bottle|Backpack|Notebook A5|Gel Pens (12)|Sticky Notes|Cable Organizer|Mouse Pad XL"
).split("|")
WORDS = (
    "the quick reliable compact durable premium lightweight design with for and of to in "
    "everyday use perfect office home travel battery life fast charging warranty included "
    "stainless steel aluminium recycled materials ergonomic adjustable compatible most devices "
    "easy setup support customer reviews rated best value new improved version colour black "
    "white grey blue edition limited bundle free shipping returns within days"
).split()
STATUSES = ("pending", "paid", "shipped", "delivered", "cancelled", "refunded")
LEVELS = ("DEBUG", "INFO", "INFO", "INFO", "WARN", "ERROR")
SERVICES = ("checkout", "auth", "search", "inventory", "billing", "notifications")
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{h[16:20]}-{h[20:]}"


def _when(rng: random.Random) -> str:
    moment = EPOCH + timedelta(seconds=rng.randrange(0, 86400 * 700))
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _sentence(rng: random.Random, low: int, high: int) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high)))
    return text[:1].upper() + text[1:] + "."


def _order(rng: random.Random) -> dict:
    items: list[dict[str, Any]] = [
        {
            "sku": f"SKU-{rng.randrange(10000, 99999)}",
            "name": rng.choice(PRODUCTS),
            "qty": rng.randint(1, 5),
            "price": round(rng.uniform(2, 400), 2),
        }
        for _ in range(rng.randint(1, 4))
    ]
    return {
        "orderId": f"ORD-{rng.randrange(10**7, 10**8)}",
        "date": _when(rng),
        "status": rng.choice(STATUSES),
        "items": items,
        "total": round(sum(i["qty"] * i["price"] for i in items), 2),
        "currency": "USD",
    }


def _user(rng: random.Random, index: int) -> dict:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    city, state, zip_code = rng.choice(CITIES)
    return {
        "id": index,
        "uuid": _uuid(rng),
        "name": f"{first} {last}",
        "email": f"{first}.{last}{rng.randrange(1, 999)}@{rng.choice(DOMAINS)}".lower(),
        "phone": f"+1-{rng.randrange(200, 999)}-{rng.randrange(200, 999)}-{rng.randrange(10**4)}",
        "active": rng.random() < 0.8,
        "age": rng.randint(18, 85),
        "balance": round(rng.uniform(0, 5000), 2),
        "registered": _when(rng),
        "address": {
            "street": f"{rng.randint(1, 9999)} {rng.choice(STREETS)}",
            "city": city,
            "state": state,
            "zip": zip_code,
            "country": "US",
        },
        "tags": rng.sample(TAGS, rng.randint(1, 4)),
        "preferences": {
            "newsletter": rng.random() < 0.5,
            "language": rng.choice(("en", "en", "es", "fr", "de")),
            "theme": rng.choice(("light", "dark", "system")),
        },
        "orders": [_order(rng) for _ in range(rng.randint(0, 2))],
    }


def _product(rng: random.Random, index: int) -> dict:
    return {
        "id": f"P{index:05d}",
        "name": rng.choice(PRODUCTS),
        "description": _sentence(rng, 8, 20),
        "price": round(rng.uniform(2, 400), 2),
        "inStock": rng.random() < 0.85,
        "stock": rng.randint(0, 500),
        "tags": rng.sample(TAGS, rng.randint(1, 5)),
        "rating": {"average": round(rng.uniform(1, 5), 1), "count": rng.randint(0, 5000)},
        "dimensions": {
            "w": round(rng.uniform(1, 80), 1),
            "h": round(rng.uniform(1, 80), 1),
            "d": round(rng.uniform(1, 80), 1),
            "unit": "cm",
        },
        "updatedAt": _when(rng),
    }


def _event(rng: random.Random, index: int) -> dict:
    return {
        "ts": _when(rng),
        "level": rng.choice(LEVELS),
        "service": rng.choice(SERVICES),
        "requestId": _uuid(rng),
        "message": _sentence(rng, 4, 12),
        "context": {
            "userId": rng.randrange(1, 10**6),
            "durationMs": rng.randint(1, 3000),
            "region": rng.choice(("us-east-1", "eu-west-1", "ap-southeast-2")),
        },
        "seq": index,
    }


KINDS = {
    "users": ("users", _user),
    "orders": ("orders", lambda rng, i: {"customerId": rng.randrange(10**6), **_order(rng)}),
    "catalog": ("products", _product),
    "events": ("events", _event),
}


def _dump(value) -> str:
    return json.dumps(value, separators=(",", ":"))


def record(kind: str, target: int, seed: int) -> bytes:
    """A record of ``kind`` whose compact JSON is as close to ``target`` bytes as the entries
    allow, without going over."""
    rng = random.Random(f"{kind}/{target}/{seed}")
    field, make = KINDS[kind]
    entries: list[dict] = []
    doc: dict[str, Any] = {"kind": kind, "generatedAt": _when(rng), "page": 1, field: entries}
    size = len(_dump(doc))
    index = 0
    while True:
        entry = make(rng, index)
        extra = len(_dump(entry)) + (1 if entries else 0)
        if size + extra > target:
            break
        entries.append(entry)
        size += extra
        index += 1
    if not entries:  # smaller than one entry: trim the only entry's free text
        entries.append({"id": 0, "note": "x" * max(1, target - size - 20)})
    doc["count"] = len(entries)
    return _dump(doc).encode("utf-8")


SIZES = {"1KB": 1024, "10KB": 10 * 1024, "100KB": 100 * 1024, "1MB": 1_000_000}
# How many records of each size the stored-bytes corpus holds (every kind at every size).
CORPUS_COPIES = {"1KB": 5, "10KB": 3, "100KB": 2, "1MB": 1}


def corpus() -> list[tuple[str, str, bytes]]:
    """(size label, kind, record) for every record of the stored-bytes corpus."""
    out = []
    for label, target in SIZES.items():
        for kind in KINDS:
            for copy in range(CORPUS_COPIES[label]):
                out.append((label, kind, record(kind, target, copy)))
    return out
