"""Regenerate seeds/directory/ — the fictional demo resource directory.

Output is an Open Referral HSDS 3.0 tabular data package (plus the HSDS 3.1
service_capacity and units tables). Every id is a uuid5 on a fixed namespace,
so running this again gives byte-identical files:

    python seeds/build_directory.py

All organizations, services, addresses and phone numbers are invented.
Phone numbers use the fictional 520-555-01xx range; websites and e-mail use
the reserved .example top-level domain.
"""

from __future__ import annotations

import csv
import json
import uuid
from pathlib import Path

OUT = Path(__file__).resolve().parent / "directory"
NS = uuid.uuid5(uuid.NAMESPACE_URL, "https://tandem.example/seeds/directory")

TZ = -7  # HSDS 3.0 schedule.timezone is a number: UTC offset in hours (Arizona, no DST)
ALL = "MO,TU,WE,TH,FR,SA,SU"
WKDY = "MO,TU,WE,TH,FR"
LAST_MODIFIED = "2026-11-18T16:00:00.000Z"
ASSURED = "2026-11-16"
ASSURER = "resource-desk@oppd.example"


def uid(kind: str, key: str) -> str:
    return str(uuid.uuid5(NS, f"{kind}:{key}"))


# --------------------------------------------------------------------------- headers
# Exactly the HSDS 3.0 example CSV headers (service_capacity/units from HSDS 3.1).
HEADERS = {
    "organizations": "id,name,alternate_name,description,email,website,tax_status,tax_id,year_incorporated,legal_status,logo,uri,parent_organization_id",
    "services": "id,organization_id,program_id,name,alternate_name,description,url,email,status,interpretation_services,application_process,fees_description,wait_time,fees,accreditations,eligibility_description,minimum_age,maximum_age,assured_date,assurer_email,licenses,alert,last_modified",
    "locations": "id,location_type,url,organization_id,name,alternate_name,description,transportation,latitude,longitude,external_identifier,external_identifier_type",
    "service_at_location": "id,service_id,location_id,description",
    "addresses": "id,location_id,attention,address_1,address_2,city,region,state_province,postal_code,country,address_type",
    "phones": "id,location_id,service_id,organization_id,contact_id,service_at_location_id,number,extension,type,description",
    "schedules": "id,service_id,location_id,service_at_location_id,valid_from,valid_to,dtstart,timezone,until,count,wkst,freq,interval,byday,byweekno,bymonthday,byyearday,description,opens_at,closes_at,schedule_link,attending_type,notes",
    "taxonomies": "id,name,description,uri,version",
    "taxonomy_terms": "id,code,name,description,parent_id,taxonomy,language,taxonomy_id,term_uri",
    "attributes": "id,link_id,taxonomy_term_id,link_type,link_entity,value",
    "units": "id,name,scheme,identifier,uri",
    "service_capacity": "id,service_id,unit_id,available,maximum,description,updated",
}
HEADERS = {k: v.split(",") for k, v in HEADERS.items()}

# --------------------------------------------------------------------------- taxonomy
TAXONOMIES = [
    ("tandem-categories", "Tandem service categories",
     "Small category list used by the Tandem resource directory to filter services in the field.",
     "https://taxonomy.tandem.example/categories", "1.0"),
    ("tandem-flags", "Tandem operational flags",
     "Operational flags that matter to a co-responder unit choosing where to take someone.",
     "https://taxonomy.tandem.example/flags", "1.0"),
]

TERMS = {
    "tandem-categories": [
        ("crisis", "Crisis services", "Crisis lines, crisis receiving and mobile crisis response."),
        ("shelter", "Shelter", "Emergency, night, seasonal and low-barrier shelter."),
        ("food", "Food", "Food pantries, soup kitchens and meal programs."),
        ("detox", "Detox and sobering", "Withdrawal management and sobering services."),
        ("substance-use", "Substance use treatment", "Medication for opioid use disorder, residential and outpatient substance use treatment."),
        ("medical", "Medical care", "Primary care, community health centers and street medicine."),
        ("behavioral-health", "Behavioral health", "Outpatient mental health care, psychiatry and counseling."),
        ("peer-support", "Peer support", "Services run by or delivered by people with lived experience."),
        ("housing", "Housing", "Housing navigation, coordinated entry and rehousing help."),
        ("legal", "Legal help", "Civil legal aid, warrant resolution and court-related help."),
        ("veterans", "Veterans", "Services for veterans and their families."),
        ("domestic-violence", "Domestic violence", "Hotlines, confidential shelter and advocacy for survivors."),
        ("harm-reduction", "Harm reduction", "Syringe services, naloxone and other harm-reduction supplies."),
        ("transportation", "Transportation", "Rides and bus passes."),
        ("hygiene", "Hygiene", "Showers, laundry and day centers."),
        ("youth", "Youth", "Services specifically for children, teens or young adults."),
        ("benefits", "Benefits", "Help applying for health coverage, food assistance and other benefits."),
        ("id-documents", "ID documents", "Help replacing identification and vital records."),
        ("older-adults", "Older adults", "Services for people 60 and older."),
    ],
    "tandem-flags": [
        ("le-dropoff", "Accepts law-enforcement drop-off",
         "The service accepts a person brought directly by a law-enforcement officer."),
        ("24-7", "Open 24/7", "The service is available 24 hours a day, every day of the year."),
    ],
}

UNITS = [
    ("bed", "Bed", "Overnight bed or cot."),
    ("chair", "Recliner chair", "Recliner chair for observation or sobering stays under 24 hours."),
    ("room", "Family room", "Private room for one family."),
]

# --------------------------------------------------------------------------- organizations
# key: (name, alternate_name, description, email_user, domain, year, legal_status, parent)
ORGS = {
    "arroyo": ("Arroyo Crisis Network", "ACN",
               "Regional crisis call center and mobile crisis provider for the county. Answers 988 calls from the region and dispatches crisis mobile teams.",
               "info", "arroyocrisis.example", 2004, "Nonprofit 501(c)(3)", None),
    "crc": ("Sonoran Crisis Response Center", "CRC",
            "24/7 behavioral health crisis facility with a dedicated law-enforcement entrance (sally port), adult and youth crisis receiving, and a short-stay stabilization unit.",
            "frontdesk", "sonorancrc.example", 2011, "Nonprofit 501(c)(3)", None),
    "cholla": ("Cholla Recovery Services", "Cholla Recovery",
               "Substance use treatment provider running withdrawal management, a sobering center and residential treatment.",
               "admissions", "chollarecovery.example", 1993, "Nonprofit 501(c)(3)", None),
    "desertsky": ("Desert Sky Treatment Centers", None,
                  "Outpatient opioid treatment programs offering methadone and buprenorphine, including a same-day bridge clinic.",
                  "intake", "desertskytx.example", 2008, "Nonprofit 501(c)(3)", None),
    "ironwood": ("Ironwood Street Mission", None,
                 "Faith-based mission serving men experiencing homelessness with a night shelter and community meals open to all.",
                 "office", "ironwoodmission.example", 1962, "Nonprofit 501(c)(3)", None),
    "marigold": ("Marigold House", None,
                 "Emergency shelter and supportive services for women experiencing homelessness.",
                 "hello", "marigoldhouse.example", 1987, "Nonprofit 501(c)(3)", None),
    "hearth": ("Hearth & Home Family Services", "Hearth & Home",
               "Family shelter, diversion and rehousing for families with children.",
               "intake", "hearthandhome.example", 1979, "Nonprofit 501(c)(3)", None),
    "canyon": ("Canyon Youth Haven", None,
               "Youth shelter for minors and a drop-in center for young adults 18 to 24. A program of Hearth & Home Family Services.",
               "youth", "canyonyouth.example", 1998, "Nonprofit 501(c)(3)", "hearth"),
    "shc": ("Sonoran Housing Collaborative", "SHC",
            "Housing-first collaborative running the low-barrier shelter, housing navigation and a coordinated entry access point.",
            "navigation", "sonoranhousing.example", 2015, "Nonprofit 501(c)(3)", None),
    "winter": ("Interfaith Winter Shelter Coalition", "IWSC",
               "Congregations that open a seasonal overflow shelter each winter.",
               "coordinator", "winterwarmth.example", 2009, "Unincorporated association", None),
    "foodbank": ("Desert Harvest Food Bank", None,
                 "Regional food bank with an emergency pantry, mobile pantries and help applying for food assistance.",
                 "pantry", "desertharvest.example", 1976, "Nonprofit 501(c)(3)", None),
    "brigid": ("St. Brigid's Community Kitchen", None,
               "Volunteer kitchen serving a free hot lunch every day and sack suppers on weekdays.",
               "kitchen", "stbrigidskitchen.example", 1984, "Nonprofit 501(c)(3)", None),
    "mercado": ("Mercado Community Health Center", "Mercado CHC",
                "Federally qualified health center with primary care, integrated behavioral health, a street medicine team and benefits enrollment.",
                "appointments", "mercadochc.example", 1972, "Nonprofit 501(c)(3) FQHC", None),
    "foothills": ("Foothills Family Health", None,
                  "Federally qualified health center on the north side with an every-day walk-in clinic and women's health.",
                  "care", "foothillsfamilyhealth.example", 1990, "Nonprofit 501(c)(3) FQHC", None),
    "pathways": ("Pathways Behavioral Health", None,
                 "Outpatient behavioral health clinic with same-day access, psychiatric care for serious mental illness and a court-ordered treatment clinic.",
                 "access", "pathwaysbh.example", 2001, "Nonprofit 501(c)(3)", None),
    "saguaro": ("Saguaro Counseling Associates", None,
                "Counseling practice serving children, families and adults, including trauma-focused therapy.",
                "office", "saguarocounseling.example", 2012, "Professional corporation", None),
    "voices": ("Voices Forward Peer Network", "Voices Forward",
               "Peer-run organization: everyone on staff has lived experience of mental health or substance use recovery.",
               "connect", "voicesforward.example", 2006, "Nonprofit 501(c)(3)", None),
    "vets": ("Veterans Resource Alliance", "VRA",
             "Veteran-led nonprofit helping veterans with benefits, housing and legal problems, whatever their discharge status.",
             "help", "vetsalliance.example", 2010, "Nonprofit 501(c)(3)", None),
    "safeharbor": ("Safe Harbor Domestic Violence Services", "Safe Harbor",
                   "24/7 domestic violence hotline, confidential emergency shelter and legal advocacy.",
                   "advocacy", "safeharbor-dv.example", 1981, "Nonprofit 501(c)(3)", None),
    "desertpoint": ("Desert Point Harm Reduction Collective", "Desert Point",
                    "Harm reduction program: syringe services, naloxone, fentanyl test strips and a mobile van.",
                    "team", "desertpoint.example", 2017, "Nonprofit 501(c)(3)", None),
    "sunrise": ("Sunrise Day Center", None,
                "Day center for people experiencing homelessness: showers, laundry, mail, phone charging and ID recovery help.",
                "frontdesk", "sunrisedaycenter.example", 2003, "Nonprofit 501(c)(3)", None),
    "legal": ("Southern Desert Legal Services", "SDLS",
              "Free civil legal aid for people with low incomes, eviction defense and a monthly warrant resolution clinic.",
              "intake", "sdlegal.example", 1968, "Nonprofit 501(c)(3)", None),
    "ridelink": ("RideLink Community Transport", "RideLink",
                 "Free rides to treatment, medical and benefits appointments, and reduced-fare bus passes.",
                 "rides", "ridelink.example", 2014, "Nonprofit 501(c)(3)", None),
    "cleanstart": ("Clean Start Mobile Showers", None,
                   "Mobile shower and laundry trailer that visits parks on a weekly schedule.",
                   "hello", "cleanstartshowers.example", 2019, "Nonprofit 501(c)(3)", None),
    "silversage": ("Silver Sage Senior Services", None,
                   "Senior center and outreach team for adults 60 and older.",
                   "info", "silversage.example", 1975, "Nonprofit 501(c)(3)", None),
}

# --------------------------------------------------------------------------- locations
# key: (org, type, name, alternate_name, description, transportation, lat, lon,
#       address_1, address_2, postal_code, url)
L = {}


def loc(key, org, name, lat, lon, addr1, zip_, *, addr2="", alt="", desc="", transport="",
        type_="physical", url=""):
    L[key] = dict(org=org, name=name, lat=lat, lon=lon, addr1=addr1, addr2=addr2, zip=zip_,
                  alt=alt, desc=desc, transport=transport, type=type_, url=url)


loc("crc-le", "crc", "Sonoran Crisis Response Center - Law Enforcement Entrance", 32.24290, -110.93380,
    "2950 E Mission Ridge Dr", "85716", addr2="Sally port - enter from N Tamarisk Ln, east side of building",
    alt="CRC sally port",
    desc="Secure vehicle sally port for law enforcement and ambulance arrivals. Press the call button at the outer gate; the inner door opens once the outer gate closes.",
    transport="Law enforcement and ambulance only. Not a public entrance.")
loc("crc-walkin", "crc", "Sonoran Crisis Response Center - Walk-in Entrance", 32.24360, -110.93470,
    "2950 E Mission Ridge Dr", "85716", addr2="Main lobby, north doors", alt="CRC walk-in",
    desc="Public entrance for walk-ins, family members and voluntary drop-offs by crisis mobile teams.",
    transport="Bus routes 11 and 34 stop at Mission Ridge and Tamarisk, 200 feet from the north doors.")
loc("acn-virtual", "arroyo", "Arroyo Crisis Network - Phone and Chat", None, None, "", "",
    type_="virtual", url="https://chat.arroyocrisis.example",
    desc="Phone, text and web chat crisis line.")
loc("acn-office", "arroyo", "Arroyo Crisis Network - Administrative Office", 32.23800, -110.97900,
    "1120 N Alamo Vista Ave", "85705", desc="Administrative office and crisis mobile team base. No walk-in crisis services here.")
loc("cholla-campus", "cholla", "Cholla Recovery Campus", 32.18020, -110.96480,
    "4410 S Ironwood Hollow Rd", "85714",
    desc="Withdrawal management unit. Law enforcement use the covered east drop-off bay.",
    transport="Bus route 25 stops at Ironwood Hollow and 36th St.")
loc("sobering", "cholla", "Mesquite Sobering Center", 32.21850, -110.97750,
    "317 W Cortez Alley", "85701", alt="Sobering center",
    desc="Ground-floor sobering center one block west of the downtown transit center.",
    transport="Two blocks from the downtown transit center.")
loc("cholla-residential", "cholla", "Cholla Recovery - Palo Brea Residential", 32.22610, -110.87120,
    "6020 E Palo Brea Dr", "85711")
loc("desertsky-west", "desertsky", "Desert Sky Treatment Center - Westside", 32.23900, -111.00480,
    "1845 W Canyon Wren St", "85745", transport="Bus route 3 stops out front.")
loc("desertsky-south", "desertsky", "Desert Sky Bridge Clinic - Southside", 32.18810, -110.94810,
    "3300 S Tres Palmas Ave", "85713", addr2="Suite 120")
loc("ironwood", "ironwood", "Ironwood Street Mission", 32.23520, -110.98100,
    "560 W Tierra Rosa St", "85705", desc="Shelter entrance on the alley side; dining hall entrance on Tierra Rosa.",
    transport="Bus routes 4 and 16.")
loc("marigold", "marigold", "Marigold House", 32.25100, -110.95200,
    "2105 N Desert Lily Pl", "85719")
loc("hearth", "hearth", "Hearth & Home Family Shelter", 32.23000, -110.92000,
    "3815 E Quail Run Dr", "85716")
loc("canyon-shelter", "canyon", "Canyon Youth Haven - Shelter", 32.25500, -110.94400,
    "1430 E Juniper Bend", "85719", desc="Youth shelter. Ring the bell at the front gate any time.")
loc("canyon-dropin", "canyon", "Canyon Youth Haven - Young Adult Drop-in", 32.23200, -110.96500,
    "915 N Copper Star Ave", "85705")
loc("opendoor", "shc", "Open Door Shelter", 32.19500, -110.97000,
    "2480 S Pueblo Wash Rd", "85713", alt="Low-barrier shelter",
    desc="Low-barrier shelter. Officers bring people to the south gate; staff meet the car.",
    transport="Bus route 6 stops at Pueblo Wash and 22nd St.")
loc("shc-office", "shc", "Sonoran Housing Collaborative - Navigation Office", 32.22200, -110.97000,
    "48 E Plaza de Luz", "85701", addr2="Second floor")
loc("winter", "winter", "St. Columba Fellowship Hall", 32.24600, -110.96000,
    "1701 N Vine Hill Ave", "85719", desc="Seasonal overflow shelter in the fellowship hall behind the church.")
loc("foodbank", "foodbank", "Desert Harvest Food Bank - Harvest Loop Pantry", 32.19900, -110.93500,
    "3030 E Harvest Loop", "85713")
loc("mobile-north", "foodbank", "Mobile Pantry Stop - Olive Grove Park", 32.28700, -111.00100,
    "4100 N Olive Grove Dr", "85705", addr2="Park ramada parking lot")
loc("mobile-south", "foodbank", "Mobile Pantry Stop - Las Palomas Community Center", 32.14000, -110.96000,
    "7350 S Paloma Blanca Ave", "85706")
loc("brigid", "brigid", "St. Brigid's Community Kitchen", 32.21400, -110.96900,
    "820 S Ochoa Crossing", "85701")
loc("mercado", "mercado", "Mercado Community Health Center - Main Clinic", 32.20000, -110.96600,
    "1650 S Mercado Verde Ave", "85713", transport="Bus routes 6 and 18.")
loc("riverbank", "desertpoint", "Riverbank Park - North Lot", 32.21600, -110.98300,
    "1200 W Riverbank Park Dr", "85745", addr2="North parking lot",
    desc="Outdoor stop shared by several mobile services (street medicine, harm reduction van, shower trailer).")
loc("foothills", "foothills", "Foothills Family Health", 32.29500, -111.02000,
    "2255 W Ocotillo Flats Rd", "85741")
loc("pathways", "pathways", "Pathways Behavioral Health - Palo Verde Clinic", 32.25200, -110.93300,
    "2121 E Palo Verde Bloom St", "85719")
loc("saguaro", "saguaro", "Saguaro Counseling Associates", 32.23800, -110.87000,
    "5850 E Sabino Shade Dr", "85711", addr2="Suite 210")
loc("voices", "voices", "Voices Forward Peer Support Center", 32.22800, -110.97200,
    "401 N Stone Canyon Ave", "85705")
loc("vets", "vets", "Veterans Resource Alliance", 32.17900, -110.95800,
    "3601 S Veterans Honor Way", "85713")
loc("safeharbor-office", "safeharbor", "Safe Harbor Legal Advocacy Office", 32.22100, -110.97550,
    "118 W Justice Walk", "85701", addr2="Suite 300", desc="Advocacy office near the courthouses. The shelter address is confidential.")
loc("safeharbor-mail", "safeharbor", "Safe Harbor Mailing Address", None, None,
    "PO Box 40921", "85717", type_="postal")
loc("desertpoint", "desertpoint", "Desert Point Harm Reduction - Plumbago Street", 32.20900, -110.96000,
    "1010 S Plumbago St", "85713")
loc("eastside-transit", "desertpoint", "Eastside Transit Center - South Bays", 32.22100, -110.86800,
    "6100 E Transit Center Way", "85711", addr2="South bus bays")
loc("sunrise", "sunrise", "Sunrise Day Center", 32.23300, -110.98500,
    "725 W Sunrise Commons St", "85705", transport="Bus route 4; free shuttle from the Open Door Shelter at 07:15.")
loc("legal", "legal", "Southern Desert Legal Services - Downtown", 32.22350, -110.97300,
    "33 N Stone Canyon Ave", "85701", addr2="Suite 400")
loc("ridelink", "ridelink", "RideLink Dispatch Office", 32.22600, -110.93000,
    "2700 E Depot Spur Rd", "85716")
loc("missionview", "cleanstart", "Mission View Park", 32.17300, -110.99000,
    "5400 S Mission View Rd", "85746", addr2="East parking lot")
loc("silversage", "silversage", "Silver Sage Senior Center", 32.26500, -110.89500,
    "4455 E Tanque Trail", "85712")

# --------------------------------------------------------------------------- services
S = {}
SPANISH = "Spanish-speaking staff on every shift; telephone interpretation for other languages."


def svc(key, org, name, desc, *, alt="", elig="", apply="", fees="Free.", min_age=None, max_age=None,
        cats=(), flags=(), locs=(), sched=(), phones=(), cap=None, alert="", interp=SPANISH,
        accred=""):
    S[key] = dict(org=org, name=name, desc=desc, alt=alt, elig=elig, apply=apply, fees=fees,
                  min_age=min_age, max_age=max_age, cats=cats, flags=flags, locs=locs,
                  sched=list(sched), phones=list(phones), cap=cap, alert=alert, interp=interp,
                  accred=accred)


def wk(byday, opens, closes, desc, *, at=None, notes="", interval=None, dtstart="",
       valid_from="", valid_to="", attending=""):
    """A WEEKLY schedule. `at` = location key for a site-specific schedule."""
    return dict(freq="WEEKLY", byday=byday, opens=opens, closes=closes, desc=desc, at=at,
                notes=notes, interval=interval, dtstart=dtstart, valid_from=valid_from,
                valid_to=valid_to, attending=attending)


def mo(byday, opens, closes, desc, *, at=None, notes="", attending=""):
    """A MONTHLY schedule with ordinal byday, e.g. 2MO or -1FR."""
    return dict(freq="MONTHLY", byday=byday, opens=opens, closes=closes, desc=desc, at=at,
                notes=notes, interval=None, dtstart="", valid_from="", valid_to="",
                attending=attending)


def h24(desc="Open 24 hours a day, 7 days a week.", **kw):
    return wk(ALL, "00:00", "23:59", desc, **kw)


# --- crisis system
svc("crisis-line", "arroyo", "Regional Crisis Line",
    "24/7 behavioral health crisis line for the region. Calls to 988 from local area codes route here. "
    "Counselors can de-escalate by phone, dispatch a crisis mobile team, or take a warm hand-off from an officer on scene.",
    alt="988 regional crisis line",
    elig="Anyone in the county, any age, including family members and professionals calling about someone else.",
    apply="Call or text any time. Officers can hand the phone to the person for a warm hand-off.",
    cats=("crisis", "behavioral-health"), flags=("24-7",), locs=("acn-virtual",),
    sched=[h24(attending="By phone, text or web chat.")],
    phones=[("520-555-0100", "hotline", "Regional crisis line (also reached by dialing 988 in the region)."),
            ("520-555-0101", "text", "Text line for people who cannot talk safely.")],
    interp="Spanish-speaking counselors 24/7; interpretation in more than 200 languages by phone.",
    accred="Member of the national 988 network (fictional demo accreditation).")
svc("mobile-teams", "arroyo", "Crisis Mobile Teams",
    "Two-person behavioral health teams dispatched by the Regional Crisis Line. They respond anywhere in the county, "
    "usually within 60 minutes in the metro area, can meet officers on scene, and can transport voluntary adults to the CRC.",
    elig="Anyone in a behavioral health crisis in the county. Scenes must be safe or secured by officers.",
    apply="Call the crisis line, or officers call the law-enforcement request line with location and call-back number.",
    cats=("crisis", "behavioral-health"), flags=("24-7",),
    sched=[h24()],
    phones=[("520-555-0102", "voice", "Law-enforcement request line for crisis mobile teams.")])
svc("youth-mobile", "arroyo", "Youth Mobile Crisis Response",
    "Mobile crisis clinicians trained in child and family work. Respond to homes and schools; follow-up visits for 30 days.",
    elig="Children and youth through age 17 and their families.", min_age=0, max_age=17,
    apply="Request through the Regional Crisis Line.",
    cats=("crisis", "youth"), sched=[wk(ALL, "07:00", "23:00", "Every day 7 am to 11 pm.",
                                       notes="Overnight youth calls are covered by the adult crisis mobile teams.")],
    phones=[("520-555-0103", "voice", "Youth mobile crisis scheduling and follow-up.")])

svc("crc-le", "crc", "Adult Crisis Receiving - Law Enforcement Drop-off",
    "No-refusal crisis receiving for adults brought by law enforcement, voluntary or involuntary (emergency petition "
    "or court pickup order). Officers enter through the sally port; staff aim to complete the officer hand-off in under "
    "7 minutes so the unit can go back in service.",
    alt="CRC sally port",
    elig="Adults 18 and over in a behavioral health crisis brought by law enforcement. People who are medically unstable "
         "(unresponsive, serious injury, suspected overdose) go to an emergency department first.",
    apply="Call the law-enforcement intake line when en route. Bring the petition or pickup order if there is one.",
    min_age=18, cats=("crisis", "behavioral-health"), flags=("le-dropoff", "24-7"), locs=("crc-le",),
    sched=[h24()],
    phones=[("520-555-0110", "voice", "Law-enforcement intake / call-ahead line (answered 24/7)."),
            ("520-555-0111", "fax", "Petition and pickup-order paperwork.")],
    cap=("chair", 9, 24, "23-hour observation recliners in adult crisis receiving.", "2026-11-21T05:45:00.000-07:00"))
svc("crc-walkin", "crc", "Walk-in Crisis Urgent Care",
    "Walk-in behavioral health urgent care: assessment, medication, and short observation. Families and crisis mobile "
    "teams bring people here for voluntary care.",
    elig="Adults 18 and over who come in voluntarily. Youth go to Youth Crisis Receiving at the same building.",
    apply="Walk in any time through the north doors. No appointment or insurance needed.",
    min_age=18, cats=("crisis", "behavioral-health"), flags=("24-7",), locs=("crc-walkin",),
    sched=[h24()],
    phones=[("520-555-0112", "voice", "Walk-in lobby front desk.")],
    alert="North visitor lot resurfacing through December 15; park in the overflow lot on Tamarisk Ln.")
svc("crc-youth", "crc", "Youth Crisis Receiving",
    "Separate youth crisis unit for children and teens. Accepts walk-ins with a parent or guardian and law-enforcement "
    "drop-offs through the sally port.",
    elig="Children and teens 8 to 17. A parent or guardian is contacted for every admission.", min_age=8, max_age=17,
    apply="Walk in with a parent or guardian, or officers call the law-enforcement intake line when en route.",
    cats=("crisis", "youth", "behavioral-health"), flags=("le-dropoff", "24-7"), locs=("crc-le", "crc-walkin"),
    sched=[h24()],
    phones=[("520-555-0113", "voice", "Youth unit charge nurse.")])
svc("crc-csu", "crc", "Crisis Stabilization Unit",
    "Short-stay inpatient unit (usually 3 to 7 days) for adults who need more than 23-hour observation.",
    elig="Adults 18 and over admitted after evaluation at the CRC. No direct admissions from the field.", min_age=18,
    apply="Admission only after CRC evaluation.",
    cats=("crisis", "behavioral-health"), flags=("24-7",), locs=("crc-walkin",),
    sched=[h24("Admissions 24 hours a day, 7 days a week.")],
    phones=[("520-555-0115", "voice", "Stabilization unit nurses' station (professional referrals).")],
    cap=("bed", 3, 16, "Stabilization beds.", "2026-11-21T05:45:00.000-07:00"),
    fees="Billed to health coverage; no one is turned away for inability to pay.")

# --- detox, sobering, treatment
svc("detox", "cholla", "Medically Monitored Withdrawal Management",
    "Medically monitored detox from alcohol, opioids and other drugs, with a warm hand-off to ongoing treatment. "
    "Accepts officer drop-offs of people who are intoxicated but medically stable.",
    alt="Detox",
    elig="Adults 18 and over who want help withdrawing. Must be able to walk in with help; blood alcohol over 0.30 or "
         "signs of overdose go to an emergency department.", min_age=18,
    apply="Walk in or be brought in any time; officers call ahead on the admissions line.",
    cats=("detox", "substance-use"), flags=("le-dropoff", "24-7"), locs=("cholla-campus",),
    sched=[h24("Admissions 24 hours a day, 7 days a week.")],
    phones=[("520-555-0120", "voice", "Admissions (24/7).")],
    cap=("bed", 2, 20, "Withdrawal management beds.", "2026-11-21T06:10:00.000-07:00"),
    fees="Accepts Medicaid and most plans; no one is turned away for inability to pay.")
svc("sobering", "cholla", "Mesquite Sobering Center",
    "Safe place to sleep off alcohol or drugs for up to 23 hours, as an alternative to jail or the emergency department. "
    "Nursing staff on site; peer coaches offer treatment on discharge.",
    alt="Sobering center",
    elig="Adults 18 and over who are intoxicated, cooperative and medically stable.", min_age=18,
    apply="Officers and crisis mobile teams drop off at the front door; walk-ins accepted.",
    cats=("detox", "harm-reduction"), flags=("le-dropoff", "24-7"), locs=("sobering",),
    sched=[h24()],
    phones=[("520-555-0121", "voice", "Sobering center desk.")],
    cap=("chair", 6, 14, "Sobering recliners.", "2026-11-21T06:10:00.000-07:00"))
svc("residential", "cholla", "Residential Substance Use Treatment",
    "28- to 45-day residential treatment with medication support, groups and family sessions.",
    elig="Adults 18 and over with a substance use disorder. Detox first if still withdrawing.", min_age=18,
    apply="Intake assessment by phone or at the campus on weekdays.",
    cats=("substance-use",), locs=("cholla-residential",),
    sched=[wk(WKDY, "08:00", "15:00", "Intake Monday to Friday 8 am to 3 pm.")],
    phones=[("520-555-0122", "voice", "Residential intake.")],
    cap=("bed", 0, 32, "Residential treatment beds (waitlist when full).", "2026-11-20T15:00:00.000-07:00"),
    fees="Medicaid and most plans; sliding fee for uninsured.")
svc("otp", "desertsky", "Opioid Treatment Program",
    "Methadone and buprenorphine with counseling. New patients start the same day when seen before 10 am.",
    alt="Methadone clinic",
    elig="Adults 18 and over with opioid use disorder.", min_age=18,
    apply="Walk in before 10 am on a weekday with any ID if you have one; ID is not required to start.",
    cats=("substance-use", "medical"), locs=("desertsky-west",),
    sched=[wk(WKDY, "05:30", "13:30", "Dosing Monday to Friday 5:30 am to 1:30 pm.",
              notes="New-patient intake until 10:00 on weekdays."),
           wk("SA,SU", "07:00", "11:00", "Dosing Saturday and Sunday 7 am to 11 am.")],
    phones=[("520-555-0125", "voice", "Westside clinic front desk.")],
    fees="Medicaid and most plans; sliding fee for uninsured.")
svc("bridge", "desertsky", "Same-Day Buprenorphine Bridge Clinic",
    "Walk-in clinic that starts buprenorphine the same day and bridges people to a long-term prescriber.",
    elig="People 16 and over with opioid use disorder. No insurance needed.", min_age=16,
    apply="Walk in; the CRC and emergency departments can also send a referral.",
    cats=("substance-use", "medical", "harm-reduction"), locs=("desertsky-south",),
    sched=[wk(WKDY, "08:00", "17:00", "Monday to Friday 8 am to 5 pm.")],
    phones=[("520-555-0126", "voice", "Bridge clinic.")])

# --- shelters
svc("mens-shelter", "ironwood", "Men's Night Shelter",
    "Overnight shelter for men with dinner, showers and breakfast. Lockers for residents.",
    elig="Men 18 and over. Must be able to care for themselves; no weapons.", min_age=18,
    apply="Line up at the alley entrance from 6:30 pm. Beds are first come, first served.",
    cats=("shelter",), locs=("ironwood",),
    sched=[wk(ALL, "19:00", "07:00", "Every night 7 pm to 7 am.", notes="Intake closes at 22:00 except for officer and crisis-team referrals with a call-ahead.")],
    phones=[("520-555-0130", "voice", "Shelter desk (evenings).")],
    cap=("bed", 11, 120, "Men's shelter beds.", "2026-11-20T21:30:00.000-07:00"),
    interp="Spanish-speaking staff most evenings.")
svc("mission-meals", "ironwood", "Community Meals",
    "Free breakfast and dinner in the mission dining hall. No questions asked.",
    elig="Anyone who is hungry.", apply="Walk in.",
    cats=("food",), locs=("ironwood",),
    sched=[wk(ALL, "06:00", "07:00", "Breakfast every day 6 am to 7 am."),
           wk(ALL, "17:30", "18:30", "Dinner every day 5:30 pm to 6:30 pm.")],
    phones=[("520-555-0131", "voice", "Mission office.")])
svc("womens-shelter", "marigold", "Marigold House Women's Shelter",
    "Emergency shelter for women with case management, meals and a quiet room. Open all day; intake at any hour by phone.",
    elig="Women 18 and over, including transgender women. Women with children are referred to the family shelter.",
    min_age=18, apply="Call the intake line; officers and crisis teams may call ahead at any hour.",
    cats=("shelter",), flags=("24-7",), locs=("marigold",),
    sched=[h24()],
    phones=[("520-555-0133", "voice", "24-hour intake.")],
    cap=("bed", 4, 48, "Women's shelter beds.", "2026-11-21T07:00:00.000-07:00"))
svc("family-shelter", "hearth", "Family Emergency Shelter",
    "Private rooms for families with children, with case management and school enrollment help.",
    elig="Families with at least one child under 18, or a pregnant person in the third trimester.",
    apply="Intake by phone on weekdays. After hours, call the crisis line for a motel voucher referral.",
    cats=("shelter", "housing"), locs=("hearth",),
    sched=[wk(WKDY, "09:00", "16:00", "Intake Monday to Friday 9 am to 4 pm.")],
    phones=[("520-555-0135", "voice", "Family intake.")],
    cap=("room", 1, 22, "Family rooms.", "2026-11-20T16:00:00.000-07:00"),
    alert="Nearly full: call intake before transporting a family.")
svc("family-diversion", "hearth", "Family Diversion and Rapid Exit",
    "Short-term help (mediation, one-time rent or deposit, bus tickets home) so families can avoid or leave shelter quickly.",
    elig="Families with children who are homeless or about to lose housing.",
    apply="Call or walk in during office hours.",
    cats=("housing",), locs=("hearth",),
    sched=[wk(WKDY, "08:30", "17:00", "Monday to Friday 8:30 am to 5 pm.")],
    phones=[("520-555-0136", "voice", "Diversion specialists.")])
svc("youth-shelter", "canyon", "Youth Emergency Shelter",
    "Shelter for runaway, homeless and unaccompanied youth. Staff contact a parent or guardian and child welfare as required.",
    elig="Youth 12 to 17.", min_age=12, max_age=17,
    apply="Youth can ring the bell at any hour. Officers can bring a youth directly after calling ahead.",
    cats=("shelter", "youth"), flags=("le-dropoff", "24-7"), locs=("canyon-shelter",),
    sched=[h24()],
    phones=[("520-555-0138", "voice", "24-hour youth shelter line."),
            ("520-555-0139", "text", "Text line for youth.")],
    cap=("bed", 5, 16, "Youth shelter beds.", "2026-11-21T06:00:00.000-07:00"))
svc("youth-dropin", "canyon", "Young Adult Drop-in Center",
    "Showers, laundry, meals, computers and case management for young adults.",
    elig="Young adults 18 to 24.", min_age=18, max_age=24, apply="Walk in.",
    cats=("hygiene", "food", "youth", "housing"), locs=("canyon-dropin",),
    sched=[wk("MO,TU,WE,TH,FR,SA", "10:00", "18:00", "Monday to Saturday 10 am to 6 pm.")],
    phones=[("520-555-0140", "voice", "Drop-in center.")])
svc("open-door", "shc", "Open Door Low-Barrier Shelter",
    "Low-barrier shelter open around the clock. Sobriety not required; partners, pets and possessions welcome. "
    "Accepts deflection drop-offs from officers and peers at any hour.",
    alt="Low-barrier shelter",
    elig="Adults 18 and over. No sobriety or ID requirement.", min_age=18,
    apply="Walk in, or officers call ahead and bring the person to the south gate.",
    cats=("shelter", "harm-reduction"), flags=("le-dropoff", "24-7"), locs=("opendoor",),
    sched=[h24()],
    phones=[("520-555-0142", "voice", "Shelter desk (24/7)."),
            ("520-555-0143", "voice", "Officer and outreach call-ahead line.")],
    cap=("bed", 6, 150, "Low-barrier shelter beds.", "2026-11-21T05:00:00.000-07:00"))
svc("housing-nav", "shc", "Housing Navigation",
    "Navigators help people who are homeless gather documents, search for units and move in.",
    elig="Adults experiencing homelessness who have completed a coordinated entry assessment.",
    apply="Referral from coordinated entry, a shelter or an outreach team.",
    cats=("housing",), locs=("shc-office",),
    sched=[wk("MO,WE,TH,FR", "08:00", "17:00", "Monday, Wednesday, Thursday, Friday 8 am to 5 pm."),
           wk("TU", "08:00", "19:00", "Tuesday 8 am to 7 pm.")],
    phones=[("520-555-0144", "voice", "Navigation office.")])
svc("coordinated-entry", "shc", "Coordinated Entry Access Point",
    "Housing assessment that puts people on the community housing priority list.",
    elig="Anyone experiencing homelessness or at imminent risk.",
    apply="Walk in, or ask any outreach team to complete the assessment in the field.",
    cats=("housing",), locs=("shc-office", "sunrise"),
    sched=[wk(WKDY, "09:00", "15:00", "Monday to Friday 9 am to 3 pm.", at="shc-office"),
           wk("TU,TH", "08:00", "12:00", "Tuesday and Thursday 8 am to noon.", at="sunrise")],
    phones=[("520-555-0145", "voice", "Coordinated entry line.")])
svc("winter-shelter", "winter", "Winter Overflow Shelter",
    "Seasonal overflow shelter run by volunteer congregations. Cots, blankets, a hot supper and breakfast.",
    elig="Adults 18 and over and families. Pets in carriers allowed.",
    apply="Walk in from 6 pm. Officers and outreach teams may call ahead after 10 pm.",
    cats=("shelter",), locs=("winter",),
    sched=[wk(ALL, "18:00", "07:00", "Nightly 6 pm to 7 am, November 15 to March 31.",
              valid_from="2026-11-15", valid_to="2027-03-31",
              notes="Outside the season the hall also opens on nights forecast below 40 F; check the coalition line.")],
    phones=[("520-555-0147", "voice", "Coalition line (recorded message says whether the shelter is open tonight).")],
    cap=("bed", 22, 60, "Overflow cots.", "2026-11-20T22:15:00.000-07:00"),
    interp="Volunteers with Spanish on most nights.")

# --- food
svc("pantry", "foodbank", "Emergency Food Pantry",
    "Three-day emergency food box once a week, plus fresh produce when available.",
    elig="Anyone in the county who needs food. No ID or proof of income required.",
    apply="Walk in with a bag if you can.",
    cats=("food",), locs=("foodbank",),
    sched=[wk(WKDY, "08:00", "16:00", "Monday to Friday 8 am to 4 pm. Closed on federal holidays.",
              notes="Closed Thanksgiving Day and the day after. Closes at noon on the last weekday of each month for inventory.")],
    phones=[("520-555-0150", "voice", "Pantry line.")])
svc("mobile-pantry", "foodbank", "Mobile Food Pantry",
    "Truck-to-table food distribution at neighborhood stops.",
    elig="Anyone who needs food.", apply="Come to the stop; food is handed out until it runs out.",
    cats=("food",), locs=("mobile-north", "mobile-south"),
    sched=[mo("1SA", "08:00", "11:00", "First Saturday of the month 8 am to 11 am.", at="mobile-north"),
           mo("3SA", "08:00", "11:00", "Third Saturday of the month 8 am to 11 am.", at="mobile-south")],
    phones=[("520-555-0151", "voice", "Mobile pantry schedule line.")])
svc("snap-help", "foodbank", "SNAP and Benefits Application Help",
    "Staff help people apply for food assistance and health coverage and fix problems with existing cases.",
    elig="Anyone; bring any letters from the benefits office.",
    apply="Walk in or call for a phone appointment.",
    cats=("food", "benefits"), locs=("foodbank",),
    sched=[wk("TU,TH", "09:00", "15:00", "Tuesday and Thursday 9 am to 3 pm.")],
    phones=[("520-555-0152", "voice", "Benefits help line.")])
svc("hot-lunch", "brigid", "Hot Lunch Program",
    "Free sit-down hot lunch every day of the year.",
    elig="Anyone who is hungry.", apply="Walk in.",
    cats=("food",), locs=("brigid",),
    sched=[wk(ALL, "11:00", "13:00", "Every day 11 am to 1 pm."),
           wk("TH", "10:00", "14:00", "Thanksgiving community dinner 10 am to 2 pm.",
              valid_from="2026-11-26", valid_to="2026-11-26",
              notes="Holiday hours replace the regular lunch on this day.")],
    phones=[("520-555-0154", "voice", "Kitchen office.")],
    interp="")
svc("sack-supper", "brigid", "Sack Supper",
    "Bagged supper handed out at the side door.",
    elig="Anyone who is hungry.", apply="Walk up to the side door.",
    cats=("food",), locs=("brigid",),
    sched=[wk(WKDY, "16:00", "17:00", "Monday to Friday 4 pm to 5 pm.")],
    phones=[("520-555-0154", "voice", "Kitchen office.")],
    interp="")

# --- medical
svc("mercado-primary", "mercado", "Primary Care Clinic",
    "Primary care for adults and children, lab, pharmacy and chronic disease care. Same-day sick visits.",
    elig="Everyone, insured or not. Sliding fee based on income.",
    apply="Call for an appointment or walk in for same-day sick visits before 3 pm.",
    fees="Sliding fee scale; Medicaid, Medicare and most plans accepted.",
    cats=("medical",), locs=("mercado",),
    sched=[wk(WKDY, "07:30", "18:00", "Monday to Friday 7:30 am to 6 pm."),
           wk("SA", "08:00", "12:00", "Saturday 8 am to noon.")],
    phones=[("520-555-0156", "voice", "Appointments."),
            ("520-555-0157", "text", "Appointment reminders and rescheduling by text.")],
    accred="Federally qualified health center (fictional demo organization).")
svc("street-medicine", "mercado", "Street Medicine Mobile Clinic",
    "Medical van and walking team bringing wound care, medications and referrals to people living outside.",
    elig="People experiencing homelessness. No ID or insurance needed.",
    apply="Come to a stop, or ask an outreach team to request a visit.",
    cats=("medical", "harm-reduction"), locs=("riverbank", "sunrise"),
    sched=[mo("2MO", "09:00", "13:00", "Second Monday of the month 9 am to 1 pm.", at="riverbank"),
           wk("WE", "13:00", "16:00", "Wednesday 1 pm to 4 pm.", at="sunrise")],
    phones=[("520-555-0158", "voice", "Street medicine team cell.")])
svc("benefits-clinic", "mercado", "Benefits Enrollment Clinic",
    "Enrollment help for Medicaid, marketplace plans and food assistance, with a notary on site.",
    elig="Anyone who needs help enrolling; no need to be a Mercado patient.",
    apply="Walk in; bring any ID and income papers you have.",
    cats=("benefits", "medical"), locs=("mercado",),
    sched=[mo("-1FR", "10:00", "14:00", "Last Friday of the month 10 am to 2 pm.")],
    phones=[("520-555-0156", "voice", "Main appointments line; ask for enrollment.")])
svc("mercado-ibh", "mercado", "Integrated Behavioral Health",
    "Behavioral health clinicians inside the primary care clinic for counseling, medication management and warm hand-offs.",
    elig="Mercado primary care patients of any age.",
    apply="Ask your primary care provider, or call for an intake.",
    fees="Sliding fee scale; Medicaid and most plans accepted.",
    cats=("behavioral-health", "medical"), locs=("mercado",),
    sched=[wk(WKDY, "08:00", "17:00", "Monday to Friday 8 am to 5 pm.")],
    phones=[("520-555-0159", "voice", "Behavioral health intake.")])
svc("foothills-walkin", "foothills", "Walk-in Clinic",
    "Walk-in care every day for minor illness and injury, medication refills and TB tests.",
    elig="Everyone, insured or not.", apply="Walk in; last patient 30 minutes before closing.",
    fees="Sliding fee scale; Medicaid and most plans accepted.",
    cats=("medical",), locs=("foothills",),
    sched=[wk(ALL, "08:00", "20:00", "Every day 8 am to 8 pm.",
              notes="Closes at 16:00 on Thanksgiving, Christmas Eve and New Year's Eve.")],
    phones=[("520-555-0161", "voice", "Front desk.")])
svc("womens-health", "foothills", "Women's Health and Prenatal Care",
    "Prenatal care, family planning and screenings.",
    elig="Women and pregnant people of any age; teens can be seen confidentially.", min_age=12,
    apply="Call for an appointment.", fees="Sliding fee scale.",
    cats=("medical",), locs=("foothills",),
    sched=[wk("MO,WE,FR", "08:00", "16:30", "Monday, Wednesday and Friday 8 am to 4:30 pm.")],
    phones=[("520-555-0162", "voice", "Women's health scheduling.")])

# --- behavioral health
svc("pathways-sda", "pathways", "Adult Outpatient Behavioral Health (Same-Day Access)",
    "Same-day intake, counseling, case management and medication for adults. CRC discharges are seen within 72 hours.",
    elig="Adults 18 and over.", min_age=18,
    apply="Walk in before 2 pm for same-day access, or call to schedule.",
    fees="Medicaid and most plans; sliding fee for uninsured.",
    cats=("behavioral-health",), locs=("pathways",),
    sched=[wk(WKDY, "08:00", "17:00", "Monday to Friday 8 am to 5 pm.",
              notes="Same-day intake until 14:00.")],
    phones=[("520-555-0164", "voice", "Access line.")])
svc("pathways-smi", "pathways", "Psychiatric Care for Serious Mental Illness",
    "Psychiatry, long-acting injectable medication, assertive community treatment and housing support for people with a serious mental illness designation.",
    elig="Adults with a serious mental illness designation or pending evaluation.", min_age=18,
    apply="Referral from the CRC, a hospital or the access line.",
    cats=("behavioral-health", "medical"), locs=("pathways",),
    sched=[wk(WKDY, "08:00", "17:00", "Monday to Friday 8 am to 5 pm.")],
    phones=[("520-555-0165", "voice", "Psychiatric services.")])
svc("cot-clinic", "pathways", "Court-Ordered Treatment Clinic",
    "Outpatient treatment and monitoring for people under a court order for treatment. Coordinates with officers when "
    "a pickup order is issued for non-compliance, and with the court on amendments.",
    elig="Adults under a court order for evaluation or treatment.", min_age=18,
    apply="Assigned by the court; officers and family can call the clinic coordinator.",
    cats=("behavioral-health", "legal"), locs=("pathways",),
    sched=[wk(WKDY, "08:00", "16:00", "Monday to Friday 8 am to 4 pm.")],
    phones=[("520-555-0166", "voice", "Court-ordered treatment coordinator.")])
svc("youth-counseling", "saguaro", "Youth and Family Counseling",
    "Individual and family therapy for children and teens, including after-school and Saturday appointments.",
    elig="Children and teens 5 to 17 with a parent or guardian.", min_age=5, max_age=17,
    apply="Parent or guardian calls to schedule an intake.",
    fees="Medicaid and most plans; sliding fee available.",
    cats=("behavioral-health", "youth"), locs=("saguaro",),
    sched=[wk("MO,TU,WE,TH", "09:00", "19:00", "Monday to Thursday 9 am to 7 pm."),
           wk("SA", "09:00", "13:00", "Saturday 9 am to 1 pm.")],
    phones=[("520-555-0168", "voice", "Scheduling.")])
svc("adult-counseling", "saguaro", "Adult Counseling and Trauma Therapy",
    "Individual counseling, trauma-focused therapy and groups for adults.",
    elig="Adults 18 and over.", min_age=18, apply="Call to schedule an intake.",
    fees="Medicaid and most plans; sliding fee available.",
    cats=("behavioral-health",), locs=("saguaro",),
    sched=[wk(WKDY, "09:00", "18:00", "Monday to Friday 9 am to 6 pm.")],
    phones=[("520-555-0168", "voice", "Scheduling.")])

# --- peer-run
svc("peer-center", "voices", "Peer Support Center",
    "Drop-in center run by peers: recovery groups, coffee, computers and one-to-one peer support.",
    elig="Adults 18 and over living with mental health or substance use challenges.", min_age=18,
    apply="Walk in.", cats=("peer-support", "behavioral-health"), locs=("voices",),
    sched=[wk(WKDY, "09:00", "17:00", "Monday to Friday 9 am to 5 pm."),
           wk("SA", "10:00", "14:00", "Saturday 10 am to 2 pm.")],
    phones=[("520-555-0170", "voice", "Center front desk.")])
svc("warmline", "voices", "Peer Warmline",
    "Non-crisis phone line answered by peers for people who want someone to talk to. Warm hand-off to the crisis line if needed.",
    elig="Anyone 18 and over.", min_age=18, apply="Call or text during warmline hours.",
    cats=("peer-support",),
    sched=[wk(ALL, "15:00", "23:00", "Every day 3 pm to 11 pm.", attending="By phone or text only.")],
    phones=[("520-555-0171", "voice", "Warmline."), ("520-555-0172", "text", "Warmline text.")])
svc("peer-crc", "voices", "Peer Recovery Coaching at the CRC",
    "Peer coaches meet people at the CRC and stay in touch for 30 days after discharge.",
    elig="Adults seen at the Sonoran Crisis Response Center.", min_age=18,
    apply="Ask CRC staff; coaches also take referrals from officers at drop-off.",
    cats=("peer-support", "crisis"), locs=("crc-walkin",),
    sched=[wk(ALL, "07:00", "23:00", "Every day 7 am to 11 pm.")],
    phones=[("520-555-0173", "voice", "Peer coach supervisor.")])

# --- veterans
svc("vets-outreach", "vets", "Veterans Outreach and Benefits Navigation",
    "Veteran peers help with benefits claims, discharge upgrades and connecting to veterans' health care.",
    elig="Veterans of any era and any discharge status, and their families.",
    apply="Walk in or call.", cats=("veterans", "benefits"), locs=("vets",),
    sched=[wk(WKDY, "08:00", "16:30", "Monday to Friday 8 am to 4:30 pm.")],
    phones=[("520-555-0175", "voice", "Main line. Veterans in crisis: dial 988 and press 1.")])
svc("vets-housing", "vets", "Veterans Housing Assistance",
    "Rapid rehousing and homelessness prevention for veteran households, including deposits and short-term rent.",
    elig="Veteran households who are homeless or at risk of losing housing, with income under 50% of area median.",
    apply="Call for a screening; outreach staff can screen in the field.",
    cats=("veterans", "housing"), locs=("vets",),
    sched=[wk(WKDY, "08:00", "16:30", "Monday to Friday 8 am to 4:30 pm.")],
    phones=[("520-555-0176", "voice", "Housing screening.")])
svc("vets-legal", "vets", "Veterans Legal Clinic",
    "Volunteer attorneys help veterans with benefits appeals, discharge upgrades, fines and minor warrants.",
    elig="Veterans of any discharge status.", apply="First come, first served; sign-in starts at 12:30.",
    cats=("veterans", "legal"), locs=("vets",),
    sched=[mo("1WE", "13:00", "16:00", "First Wednesday of the month 1 pm to 4 pm.")],
    phones=[("520-555-0175", "voice", "Main line.")])

# --- domestic violence
svc("dv-hotline", "safeharbor", "Domestic Violence Hotline",
    "24/7 hotline for safety planning, shelter intake and advocacy. Officers on scene can call for a direct shelter placement.",
    elig="Anyone affected by domestic or dating violence, any gender, any age.",
    apply="Call or text any time.", cats=("domestic-violence", "crisis"), flags=("24-7",),
    sched=[h24(attending="By phone or text.")],
    phones=[("520-555-0180", "hotline", "24-hour domestic violence hotline."),
            ("520-555-0181", "text", "Text line.")])
svc("dv-shelter", "safeharbor", "Confidential Emergency Shelter",
    "Confidential shelter for survivors and their children. The address is never given out; officers arrange a "
    "meeting point through the hotline.",
    elig="Survivors of domestic violence and their children; pets accepted through a partner kennel.",
    apply="Call the hotline for intake at any hour.",
    cats=("domestic-violence", "shelter"), flags=("24-7",),
    sched=[h24("Intake through the hotline 24 hours a day, 7 days a week.")],
    phones=[("520-555-0180", "hotline", "Shelter intake is through the hotline.")],
    cap=("bed", 3, 36, "Confidential shelter beds.", "2026-11-21T07:15:00.000-07:00"))
svc("dv-legal", "safeharbor", "Legal Advocacy and Protective Orders",
    "Advocates help survivors file orders of protection and go with them to court.",
    elig="Survivors of domestic or dating violence.", apply="Walk in or call.",
    cats=("domestic-violence", "legal"), locs=("safeharbor-office",),
    sched=[wk(WKDY, "08:30", "16:30", "Monday to Friday 8:30 am to 4:30 pm.")],
    phones=[("520-555-0182", "voice", "Advocacy office.")])

# --- harm reduction
svc("ssp", "desertpoint", "Syringe Services Program",
    "Sterile syringes, safe disposal, wound care supplies, fentanyl test strips, testing for HIV and hepatitis C.",
    elig="Adults 18 and over who use drugs. Anonymous.", min_age=18, apply="Walk in.",
    cats=("harm-reduction",), locs=("desertpoint",),
    sched=[wk("MO,WE,FR", "10:00", "16:00", "Monday, Wednesday and Friday 10 am to 4 pm.")],
    phones=[("520-555-0184", "voice", "Fixed site."), ("520-555-0185", "text", "Text for supplies or a van visit.")])
svc("hr-van", "desertpoint", "Mobile Harm Reduction Van",
    "Van with syringe services, naloxone, water and snacks at regular stops.",
    elig="Anyone 18 and over.", min_age=18, apply="Come to a stop.",
    cats=("harm-reduction",), locs=("riverbank", "eastside-transit"),
    sched=[wk("TU", "17:00", "20:00", "Tuesday 5 pm to 8 pm.", at="riverbank"),
           wk("TH", "17:00", "20:00", "Thursday 5 pm to 8 pm.", at="eastside-transit"),
           wk("SA", "10:00", "13:00", "Every other Saturday 10 am to 1 pm.", at="riverbank",
              interval=2, dtstart="2026-01-03")],
    phones=[("520-555-0185", "text", "Text the van.")])
svc("naloxone", "desertpoint", "Naloxone Distribution and Training",
    "Free naloxone kits and five-minute overdose response training; kits also for family members and businesses.",
    elig="Anyone 14 and over.", min_age=14, apply="Walk in or request kits by text.",
    cats=("harm-reduction",), locs=("desertpoint",),
    sched=[wk(WKDY, "10:00", "16:00", "Monday to Friday 10 am to 4 pm.")],
    phones=[("520-555-0184", "voice", "Fixed site.")])

# --- day center, hygiene, ID
svc("day-center", "sunrise", "Day Center, Showers and Laundry",
    "Showers, laundry, mail address, phone charging, coffee and a place to rest during the day.",
    elig="Adults 18 and over experiencing homelessness.", min_age=18,
    apply="Sign in at the front desk; showers are first come, first served.",
    cats=("hygiene", "housing"), locs=("sunrise",),
    sched=[wk("MO,TU,WE,TH,FR,SA", "07:00", "15:00", "Monday to Saturday 7 am to 3 pm.",
              notes="Last shower sign-up at 13:00.")],
    phones=[("520-555-0187", "voice", "Front desk.")])
svc("id-recovery", "sunrise", "ID Recovery Help",
    "Help replacing state ID, birth certificates and social security cards, including fee vouchers.",
    elig="Anyone experiencing homelessness.", apply="Walk in during ID hours; bring any documents you still have.",
    cats=("id-documents",), locs=("sunrise",),
    sched=[wk("TU,TH", "09:00", "12:00", "Tuesday and Thursday 9 am to noon.")],
    phones=[("520-555-0187", "voice", "Front desk; ask for the ID desk.")])
svc("mobile-showers", "cleanstart", "Mobile Shower Trailer",
    "Private shower stalls, hygiene kits and clean socks.",
    elig="Anyone.", apply="Sign up at the trailer.",
    cats=("hygiene",), locs=("riverbank", "missionview"),
    sched=[wk("WE", "09:00", "13:00", "Wednesday 9 am to 1 pm.", at="riverbank"),
           wk("SA", "09:00", "13:00", "Saturday 9 am to 1 pm.", at="missionview")],
    phones=[("520-555-0189", "text", "Text for the week's schedule.")])

# --- legal
svc("legal-aid", "legal", "Civil Legal Aid",
    "Free lawyers for benefits denials, family law with domestic violence, consumer debt and housing problems.",
    elig="Households with income under 125% of the federal poverty guideline; older adults and survivors regardless of income.",
    apply="Call the intake line; in-person intake Monday to Thursday.",
    cats=("legal",), locs=("legal",),
    sched=[wk("MO,TU,WE,TH", "09:00", "16:00", "Monday to Thursday 9 am to 4 pm.")],
    phones=[("520-555-0191", "voice", "Intake line.")])
svc("eviction-defense", "legal", "Eviction Defense Clinic",
    "Same-day advice and representation for tenants with an eviction hearing.",
    elig="Tenants with an eviction notice or court date.", apply="Walk in with the court papers.",
    cats=("legal", "housing"), locs=("legal",),
    sched=[wk("WE", "13:00", "16:00", "Wednesday 1 pm to 4 pm.")],
    phones=[("520-555-0191", "voice", "Intake line.")])
svc("warrant-clinic", "legal", "Warrant Resolution and Community Court Clinic",
    "A judge, prosecutor and defender hold court at the day center to quash misdemeanor warrants and resolve fines "
    "through community service or treatment.",
    elig="Anyone with a city misdemeanor warrant or unpaid fines; people experiencing homelessness get priority.",
    apply="Sign in at the day center from 8:30.",
    cats=("legal",), locs=("sunrise",),
    sched=[mo("-1TH", "09:00", "12:00", "Last Thursday of the month 9 am to noon.",
              notes="No clinic in November and December when the last Thursday is a court holiday; check with intake.")],
    phones=[("520-555-0192", "voice", "Warrant clinic coordinator.")])

# --- transportation
svc("rides", "ridelink", "Rides to Treatment and Appointments",
    "Free door-to-door rides to treatment, medical, court and benefits appointments. Same-day rides for CRC and hospital discharges.",
    elig="Adults with Medicaid, or anyone referred by a shelter, clinic, the CRC or an outreach team.",
    apply="Book 24 hours ahead by phone or text; discharge planners can book same-day.",
    cats=("transportation",), locs=("ridelink",),
    sched=[wk(WKDY, "06:00", "19:00", "Monday to Friday 6 am to 7 pm."),
           wk("SA", "08:00", "14:00", "Saturday 8 am to 2 pm.")],
    phones=[("520-555-0194", "voice", "Ride booking."), ("520-555-0195", "text", "Ride booking by text.")])
svc("bus-pass", "ridelink", "Bus Pass Assistance",
    "Reduced-fare bus pass applications and free 30-day passes for people starting treatment or work.",
    elig="People with low incomes; free passes with a referral.", apply="Walk in or call.",
    cats=("transportation",), locs=("ridelink",),
    sched=[wk(WKDY, "09:00", "15:00", "Monday to Friday 9 am to 3 pm.")],
    phones=[("520-555-0194", "voice", "Main line.")])

# --- older adults
svc("senior-meals", "silversage", "Senior Lunch and Wellness Checks",
    "Hot lunch, blood pressure checks and social activities for older adults.",
    elig="Adults 60 and over and their spouses.", min_age=60, apply="Walk in; lunch reservations appreciated.",
    fees="Suggested donation; no one turned away.",
    cats=("food", "older-adults"), locs=("silversage",),
    sched=[wk(WKDY, "11:00", "13:00", "Monday to Friday 11 am to 1 pm.")],
    phones=[("520-555-0197", "voice", "Senior center.")])
svc("senior-bh", "silversage", "Older Adult Behavioral Health Outreach",
    "Clinicians visit older adults at home for depression, grief, hoarding and memory concerns; help for caregivers.",
    elig="Adults 60 and over living in the county.", min_age=60,
    apply="Anyone can refer, including officers after a welfare check.",
    cats=("behavioral-health", "older-adults"), locs=("silversage",),
    sched=[wk(WKDY, "08:00", "16:30", "Monday to Friday 8 am to 4:30 pm.", attending="Home visits; phone referrals.")],
    phones=[("520-555-0198", "voice", "Outreach referral line.")])

# Organization-level main numbers (voice).
ORG_PHONES = {
    "arroyo": "520-555-0104", "crc": "520-555-0114", "cholla": "520-555-0123",
    "desertsky": "520-555-0127", "hearth": "520-555-0137", "shc": "520-555-0146",
    "foodbank": "520-555-0153", "mercado": "520-555-0160", "pathways": "520-555-0167",
    "voices": "520-555-0174", "safeharbor": "520-555-0183", "legal": "520-555-0193",
}


# --------------------------------------------------------------------------- build
def build():
    rows = {k: [] for k in HEADERS}

    tax_ids = {}
    for name, title, desc, uri, version in TAXONOMIES:
        tax_ids[name] = uid("taxonomy", name)
        rows["taxonomies"].append(dict(id=tax_ids[name], name=name, description=f"{title}. {desc}",
                                       uri=uri, version=version))
    term_ids = {}
    used = {c for s in S.values() for c in s["cats"]} | {f for s in S.values() for f in s["flags"]}
    for tax, terms in TERMS.items():
        for code, name, desc in terms:
            assert code in used, f"unused taxonomy term {code}"
            tid = term_ids[code] = uid("taxonomy_term", f"{tax}:{code}")
            rows["taxonomy_terms"].append(dict(
                id=tid, code=code, name=name, description=desc, parent_id="", taxonomy=tax,
                language="en", taxonomy_id=tax_ids[tax],
                term_uri=f"{dict((t[0], t[3]) for t in TAXONOMIES)[tax]}/{code}"))

    org_ids = {k: uid("organization", k) for k in ORGS}
    for k, (name, alt, desc, user, domain, year, legal, parent) in ORGS.items():
        rows["organizations"].append(dict(
            id=org_ids[k], name=name, alternate_name=alt or "", description=desc,
            email=f"{user}@{domain}", website=f"https://www.{domain}", tax_status="", tax_id="",
            year_incorporated=year, legal_status=legal, logo="", uri="",
            parent_organization_id=org_ids[parent] if parent else ""))

    loc_ids = {k: uid("location", k) for k in L}
    for k, l in L.items():
        rows["locations"].append(dict(
            id=loc_ids[k], location_type=l["type"], url=l["url"], organization_id=org_ids[l["org"]],
            name=l["name"], alternate_name=l["alt"], description=l["desc"], transportation=l["transport"],
            latitude="" if l["lat"] is None else f"{l['lat']:.5f}",
            longitude="" if l["lon"] is None else f"{l['lon']:.5f}",
            external_identifier="", external_identifier_type=""))
        if l["addr1"]:
            rows["addresses"].append(dict(
                id=uid("address", k), location_id=loc_ids[k], attention="", address_1=l["addr1"],
                address_2=l["addr2"], city="Tucson", region="Pima County", state_province="AZ",
                postal_code=l["zip"], country="US",
                address_type="postal" if l["type"] == "postal" else "physical"))

    unit_ids = {}
    for code, name, _ in UNITS:
        unit_ids[code] = uid("unit", code)
        rows["units"].append(dict(id=unit_ids[code], name=name, scheme="tandem-units", identifier=code,
                                  uri=f"https://taxonomy.tandem.example/units/{code}"))

    phone_seen = set()
    for n, (k, s) in enumerate(S.items()):
        sid = uid("service", k)
        org = ORGS[s["org"]]
        rows["services"].append(dict(
            id=sid, organization_id=org_ids[s["org"]], program_id="", name=s["name"], alternate_name=s["alt"],
            description=s["desc"], url=f"https://www.{org[4]}/services/{k}", email=f"{org[3]}@{org[4]}",
            status="active", interpretation_services=s["interp"], application_process=s["apply"],
            fees_description=s["fees"], wait_time="", fees="", accreditations=s["accred"],
            eligibility_description=s["elig"],
            minimum_age="" if s["min_age"] is None else s["min_age"],
            maximum_age="" if s["max_age"] is None else s["max_age"],
            assured_date=ASSURED, assurer_email=ASSURER, licenses="", alert=s["alert"],
            last_modified=LAST_MODIFIED))
        sal_ids = {}
        for lk in s["locs"]:
            sal_ids[lk] = uid("service_at_location", f"{k}@{lk}")
            rows["service_at_location"].append(dict(
                id=sal_ids[lk], service_id=sid, location_id=loc_ids[lk],
                description=f"{s['name']} at {L[lk]['name']}."))
        for i, sc in enumerate(s["sched"]):
            at = sc["at"]
            assert at is None or at in sal_ids, (k, at)
            rows["schedules"].append(dict(
                id=uid("schedule", f"{k}#{i}"), service_id=sid,
                location_id=loc_ids[at] if at else "", service_at_location_id=sal_ids[at] if at else "",
                valid_from=sc["valid_from"], valid_to=sc["valid_to"], dtstart=sc["dtstart"], timezone=TZ,
                until="", count="", wkst="MO" if sc["interval"] else "", freq=sc["freq"],
                interval=sc["interval"] or 1, byday=sc["byday"], byweekno="", bymonthday="", byyearday="",
                description=sc["desc"], opens_at=sc["opens"], closes_at=sc["closes"], schedule_link="",
                attending_type=sc["attending"] or "In person.", notes=sc["notes"]))
        for i, (number, ptype, pdesc) in enumerate(s["phones"]):
            phone_seen.add(number)
            rows["phones"].append(dict(
                id=uid("phone", f"{k}#{i}"), location_id="", service_id=sid, organization_id="",
                contact_id="", service_at_location_id="", number=number, extension="", type=ptype,
                description=pdesc))
        for c in s["cats"] + s["flags"]:
            rows["attributes"].append(dict(
                id=uid("attribute", f"{k}:{c}"), link_id=sid, taxonomy_term_id=term_ids[c],
                link_type="service", link_entity="service", value=""))
        if s["cap"]:
            unit, avail, maximum, cdesc, updated = s["cap"]
            assert 0 <= avail <= maximum
            rows["service_capacity"].append(dict(
                id=uid("service_capacity", k), service_id=sid, unit_id=unit_ids[unit], available=avail,
                maximum=maximum, description=cdesc, updated=updated))
    for k, number in ORG_PHONES.items():
        assert number not in phone_seen, number
        rows["phones"].append(dict(
            id=uid("phone", f"org:{k}"), location_id="", service_id="", organization_id=org_ids[k],
            contact_id="", service_at_location_id="", number=number, extension="", type="voice",
            description="Main office line (administration, not for crises)."))

    OUT.mkdir(exist_ok=True)
    for table, header in HEADERS.items():
        with open(OUT / f"{table}.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=header)  # csv default line terminator: CRLF, as in the HSDS examples
            w.writeheader()
            for r in rows[table]:
                w.writerow(r)
    (OUT / "datapackage.json").write_text(json.dumps(datapackage(), indent=2, ensure_ascii=False) + "\n",
                                          encoding="utf-8")
    return rows


# --------------------------------------------------------------------------- datapackage.json
RESOURCES = [  # (resource name, csv stem, foreign keys: column -> resource)
    ("organization", "organizations", [("parent_organization_id", "organization")]),
    ("service", "services", [("organization_id", "organization")]),
    ("attribute", "attributes", [("taxonomy_term_id", "taxonomy_term")]),
    ("service_at_location", "service_at_location", [("service_id", "service"), ("location_id", "location")]),
    ("location", "locations", [("organization_id", "organization")]),
    ("phone", "phones", [("location_id", "location"), ("service_id", "service"),
                         ("organization_id", "organization"), ("service_at_location_id", "service_at_location")]),
    ("address", "addresses", [("location_id", "location")]),
    ("schedule", "schedules", [("service_id", "service"), ("location_id", "location"),
                               ("service_at_location_id", "service_at_location")]),
    ("taxonomy_term", "taxonomy_terms", [("parent_id", "taxonomy_term"), ("taxonomy_id", "taxonomy")]),
    ("taxonomy", "taxonomies", []),
    ("unit", "units", []),
    ("service_capacity", "service_capacity", [("service_id", "service"), ("unit_id", "unit")]),
]

REQUIRED = {  # HSDS "required" plus "tabular_required"
    "organization": {"id", "name", "description"},
    "service": {"id", "name", "status", "organization_id"},
    "attribute": {"id", "link_id", "taxonomy_term_id", "link_entity"},
    "service_at_location": {"id", "service_id", "location_id"},
    "location": {"id", "location_type"},
    "phone": {"id", "number"},
    "address": {"id", "address_1", "city", "state_province", "postal_code", "country", "address_type",
                "location_id"},
    "schedule": {"id"},
    "taxonomy_term": {"id", "name", "description"},
    "taxonomy": {"id", "name", "description"},
    "unit": {"id", "name"},
    "service_capacity": {"id", "unit_id", "service_id", "available", "updated"},
}

DESCRIPTIONS = {
    "organization": "Agencies and nonprofits that run the services.",
    "service": "What each organization offers, who it is for and how to get it.",
    "attribute": "Links each service to its category and flag terms (link_entity service).",
    "service_at_location": "Which service is offered at which location.",
    "location": "Physical sites, plus one virtual (phone/chat) and one postal location.",
    "phone": "Phone numbers of services and organizations (fictional 520-555-01xx numbers).",
    "address": "Street or postal address of each location that has one.",
    "schedule": "Opening hours as RFC 5545 recurrence fields; timezone is the UTC offset in hours.",
    "taxonomy_term": "Category terms (tandem-categories) and operational flags (tandem-flags).",
    "taxonomy": "The two embedded taxonomies used by this directory.",
    "unit": "Units for service capacity: bed, recliner chair, family room (HSDS 3.1 table).",
    "service_capacity": "Latest available and maximum capacity per service (HSDS 3.1 table).",
}

FIELD_TYPES = {  # non-string fields; everything else is a string
    "year_incorporated": ("integer", None), "latitude": ("number", None), "longitude": ("number", None),
    "minimum_age": ("number", None), "maximum_age": ("number", None), "extension": ("number", None),
    "timezone": ("number", None), "count": ("number", None), "interval": ("number", None),
    "available": ("number", None), "maximum": ("number", None),
    "valid_from": ("date", None), "valid_to": ("date", None), "dtstart": ("date", None),
    "until": ("date", None), "assured_date": ("date", None),
    "opens_at": ("time", "%H:%M"), "closes_at": ("time", "%H:%M"),
    "last_modified": ("datetime", "any"), "updated": ("datetime", "any"),
}
ENUMS = {
    ("service", "status"): ["active", "inactive", "defunct", "temporarily closed"],
    ("location", "location_type"): ["physical", "postal", "virtual"],
    ("address", "address_type"): ["physical", "postal", "virtual"],
    ("schedule", "freq"): ["WEEKLY", "MONTHLY"],
    ("schedule", "wkst"): ["MO", "TU", "WE", "TH", "FR", "SA", "SU"],
}


def datapackage():
    resources = []
    for name, stem, fks in RESOURCES:
        fields = []
        for col in HEADERS[stem]:
            ftype, fmt = FIELD_TYPES.get(col, ("string", None))
            f = {"name": col, "type": ftype}
            if fmt:
                f["format"] = fmt
            elif col == "id" or col.endswith("_id"):
                f["format"] = "uuid"
            elif col in ("email", "assurer_email"):
                f["format"] = "email"
            elif col in ("url", "website", "uri", "term_uri", "schedule_link"):
                f["format"] = "uri"
            cons = {"required": col in REQUIRED[name]}
            if col == "id":
                cons["unique"] = True
            if (name, col) in ENUMS:
                cons["enum"] = ENUMS[(name, col)]
            f["constraints"] = cons
            fields.append(f)
        schema = {"primaryKey": "id", "fields": fields}
        if fks:
            schema["foreignKeys"] = [
                {"fields": col, "reference": {"resource": "" if ref == name else ref, "fields": "id"}}
                for col, ref in fks]
        resources.append({"name": name, "path": f"{stem}.csv", "description": DESCRIPTIONS[name],
                          "format": "csv", "mediatype": "text/csv", "encoding": "utf-8",
                          "profile": "tabular-data-resource", "schema": schema})
    return {
        "name": "tandem-demo-directory",
        "title": "Tandem demo resource directory (fictional)",
        "description": "Fictional human-services directory for the Tandem demo. Layout follows Open Referral HSDS 3.0 "
                       "(service_capacity and units from HSDS 3.1). Every organization, address and phone number is invented.",
        "profile": "tabular-data-package",
        "version": "3.0",
        "homepage": "https://docs.openreferral.org",
        "created": "2026-11-21T00:00:00Z",
        "sources": [{"title": "Open Referral Human Services Data Specification 3.0: table and column layout only; "
                              "the data is original and fictional",
                     "path": "https://docs.openreferral.org/en/v3.0/"}],
        "resources": resources,
    }


if __name__ == "__main__":
    out = build()
    for t, r in out.items():
        print(f"{t:22s}{len(r):5d}")
