"""A large synthetic HSDS 3.0 directory for the directory benchmarks (fixed seed).

Each service has an organization, a location with an address, one or two phones, one or two
weekly schedules, one to three taxonomy terms and sometimes capacity, like a county 211 export.
Descriptions draw on a few thousand made-up words as well as common ones, so the index has a
realistic vocabulary rather than a handful of repeated words.
"""

import contextlib
import csv
import random
import uuid
from pathlib import Path

WORDS = ["shelter", "crisis", "food", "pantry", "meals", "detox", "withdrawal", "housing", "rent", "eviction", "legal", "aid", "clinic", "health", "mental", "counseling", "recovery", "peer", "youth", "family", "women", "men", "veterans", "senior", "transport", "bus", "clothing", "showers", "laundry", "hygiene", "job", "training", "benefits", "snap", "medicaid", "dental", "vision", "pharmacy", "syringe", "naloxone", "sobering", "stabilization", "respite", "domestic", "violence", "hotline", "warmline", "outreach", "case", "management", "navigation", "utility", "assistance", "childcare", "school", "tutoring", "immigration", "interpretation", "disability", "wheelchair", "hospice", "grief", "support", "group", "addiction", "alcohol", "opioid", "treatment", "outpatient", "inpatient", "residential", "emergency", "night", "day", "drop-in", "low-barrier", "pets", "storage", "mail", "phone", "charging", "id", "documents"]
# A statewide-sized taxonomy: 40 categories, one or two per service.
CATEGORIES = [(name.lower().replace(" ", "-"), name) for name in (
    "Shelter", "Food", "Crisis services", "Housing", "Health care", "Substance use", "Legal aid",
    "Transportation", "Youth services", "Benefits", "Dental care", "Vision care", "Pharmacy",
    "Harm reduction", "Domestic violence", "Veterans", "Senior services", "Disability services",
    "Employment", "Job training", "Education", "Childcare", "Clothing", "Hygiene", "Utilities",
    "Rent assistance", "Eviction prevention", "Immigration", "Interpretation", "Grief support",
    "Hospice", "Support groups", "Outpatient treatment", "Residential treatment", "Detox",
    "Mental health", "Case management", "Outreach", "Day centers", "Pet care")]
CITIES = ["Tucson", "South Tucson", "Marana", "Oro Valley", "Sahuarita", "Vail"]
DAYS = ["MO,TU,WE,TH,FR", "MO,TU,WE,TH,FR,SA,SU", "MO,WE,FR", "TU,TH", "SA,SU"]


def _made_up_words(rng: random.Random, n: int) -> list[str]:
    syllables = ["ar", "be", "ca", "do", "el", "fi", "go", "ha", "in", "jo", "ka", "lu", "mi",
                 "no", "or", "pa", "qui", "ro", "sa", "te", "ul", "ve", "wa", "xo", "ya", "zu"]
    return ["".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(n)]


def write_directory(folder: Path, services: int, seed: int = 7) -> Path:
    rng = random.Random(seed)
    vocabulary = WORDS + _made_up_words(rng, 4000)
    ns = uuid.UUID("6f1c8d1e-1d8a-4b7c-9a36-0a1b2c3d4e5f")

    def uid(*parts) -> str:
        return str(uuid.uuid5(ns, "/".join(map(str, parts))))

    folder.mkdir(parents=True, exist_ok=True)
    names = (
        "organizations.csv", "services.csv", "locations.csv", "service_at_location.csv",
        "addresses.csv", "phones.csv", "schedules.csv", "taxonomies.csv", "taxonomy_terms.csv",
        "attributes.csv", "units.csv", "service_capacity.csv")
    with contextlib.ExitStack() as stack:
        w = {name: csv.writer(stack.enter_context(
            open(folder / name, "w", newline="", encoding="utf-8"))) for name in names}
        w["organizations.csv"].writerow(["id", "name", "description"])
        w["services.csv"].writerow(["id", "organization_id", "name", "alternate_name", "description",
                                    "status", "eligibility_description"])
        w["locations.csv"].writerow(["id", "organization_id", "name", "latitude", "longitude"])
        w["service_at_location.csv"].writerow(["id", "service_id", "location_id"])
        w["addresses.csv"].writerow(["id", "location_id", "address_1", "city", "state_province",
                                     "postal_code", "country", "address_type"])
        w["phones.csv"].writerow(["id", "service_id", "number", "type"])
        w["schedules.csv"].writerow(["id", "service_id", "timezone", "freq", "byday", "opens_at",
                                     "closes_at"])
        w["taxonomies.csv"].writerows([["id", "name", "description"],
                                       ["tx-cat", "tandem-categories", "categories"],
                                       ["tx-flag", "tandem-flags", "flags"]])
        w["taxonomy_terms.csv"].writerow(["id", "code", "name", "description", "taxonomy_id"])
        for code, name in CATEGORIES:
            w["taxonomy_terms.csv"].writerow([f"t-{code}", code, name, name, "tx-cat"])
        w["taxonomy_terms.csv"].writerow(["t-le", "le-dropoff", "Law enforcement drop-off", "", "tx-flag"])
        w["taxonomy_terms.csv"].writerow(["t-247", "24-7", "Open 24/7", "", "tx-flag"])
        w["attributes.csv"].writerow(["id", "link_id", "taxonomy_term_id", "link_type", "link_entity"])
        w["units.csv"].writerows([["id", "name"], ["u-bed", "Bed"]])
        w["service_capacity.csv"].writerow(["id", "service_id", "unit_id", "available", "maximum",
                                            "updated"])
        organizations = max(1, services // 4)
        for o in range(organizations):
            kind = rng.choice(["Society", "Network", "Center", "Alliance"])
            w["organizations.csv"].writerow([uid("org", o), f"{rng.choice(vocabulary).title()} {kind}",
                                             " ".join(rng.choices(vocabulary, k=12))])
        for s in range(services):
            sid, lid = uid("svc", s), uid("loc", s)
            org = uid("org", rng.randrange(organizations))
            name = " ".join(rng.sample(WORDS, 2) + rng.sample(vocabulary, 1)).title()
            w["services.csv"].writerow([sid, org, name, "", " ".join(rng.choices(vocabulary, k=30)),
                                        "active", "Adults " + rng.choice(["18+", "55+", "of any age"])])
            w["locations.csv"].writerow([lid, org, f"{name} site", f"{32.0 + rng.random() * 0.5:.5f}",
                                         f"{-111.2 + rng.random() * 0.5:.5f}"])
            w["service_at_location.csv"].writerow([uid("sal", s), sid, lid])
            w["addresses.csv"].writerow([uid("addr", s), lid, f"{rng.randint(10, 9999)} E Speedway Blvd",
                                         rng.choice(CITIES), "AZ", "857" + f"{rng.randint(0, 99):02d}",
                                         "US", "physical"])
            for p in range(rng.randint(1, 2)):
                w["phones.csv"].writerow([uid("phone", s, p), sid, f"520-555-{rng.randint(0, 9999):04d}",
                                          rng.choice(["voice", "hotline", "text"])])
            if rng.random() < 0.1:
                w["schedules.csv"].writerow([uid("sched", s, 0), sid, "-7", "WEEKLY", DAYS[1], "00:00",
                                             "23:59"])
            else:
                for k in range(rng.randint(1, 2)):
                    opens = rng.randint(6, 12)
                    w["schedules.csv"].writerow([uid("sched", s, k), sid, "-7", "WEEKLY",
                                                 rng.choice(DAYS), f"{opens:02d}:00",
                                                 f"{opens + rng.randint(3, 10):02d}:30"])
            for code, _ in rng.sample(CATEGORIES, rng.randint(1, 2)):
                w["attributes.csv"].writerow([uid("attr", s, code), sid, f"t-{code}", "service", "service"])
            if rng.random() < 0.02:
                w["attributes.csv"].writerow([uid("attr", s, "le"), sid, "t-le", "service", "service"])
            if rng.random() < 0.1:
                maximum = rng.randint(5, 200)
                w["service_capacity.csv"].writerow([uid("cap", s), sid, "u-bed",
                                                    rng.randint(0, maximum), maximum,
                                                    "2026-11-21T05:45:00-07:00"])
    return folder
