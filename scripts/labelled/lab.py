"""The lab's network layout and numbering plan (one place for every tool).

Everything is on loopback: 127.0.0.0/8 and, for IPv6, ::1 plus the
loopback-only addresses LAB6::/64 that make-labelled-captures adds to `lo`
for the duration of a run (and removes afterwards).
"""
import hashlib

HOME_DOMAIN = "ims.mnc001.mcc001.3gppnetwork.org"
EDGE4 = ("127.0.0.10", 5260)
EDGE6 = ("::1", 5260)
PARTNER_PORT = 5270

LAB6 = "fd00:5a11::"          # extra IPv6 addresses live here (on lo only)


def v6(host_id):
    return LAB6 + str(host_id)


# home numbering
HOME_LO, HOME_HI = 447700800000, 447700800999           # assigned home range
UNASSIGNED_PREFIX = "+44770088"                         # +447700880000-+447700889999: 404
REG_LO, REG_HI = 447700800100, 447700800199             # IMS subscribers that may REGISTER
CRACK_USER = "+447700800150"                            # svcrack target (b04)
CRACK_PASSWORD = "kingfisher7"
SLOW_USER = "+447700800160"                             # slow brute force target (b05)
SLOW_PASSWORD = "marmalade"
SVWAR_EXT = "1000-1009"                                 # legacy PBX-style extensions that exist too


def password(number):
    """REGISTER password of a home subscriber (number with or without +)."""
    n = "+" + number.lstrip("+")
    if n == CRACK_USER:
        return CRACK_PASSWORD
    if n == SLOW_USER:
        return SLOW_PASSWORD
    return "pw" + hashlib.sha256(n.encode()).hexdigest()[:12]


def is_subscriber(user):
    u = user.lstrip("+")
    if u.isdigit() and REG_LO <= int(u) <= REG_HI:
        return True
    return u.isdigit() and 1000 <= int(u) <= 1009


def is_home(user):
    u = user.lstrip("+")
    return u.isdigit() and HOME_LO <= int(u) <= HOME_HI


# partners: name, role, IPv4 address, IPv6 address (or None), IMS domain,
#           allowed CLI ranges (list of (lo, hi) strings), notes
PARTNERS = [
    ("alpha", "interconnect partner (IPX carrier, France)", "127.0.0.121", v6(121),
     "ims.mnc015.mcc208.3gppnetwork.org", [("+33639800000", "+33639800999")],
     "calls to home subscribers, ~10% abandoned with CANCEL, a re-INVITE now and then; IPv6 in b12"),
    ("bravo", "interconnect partner (USA)", "127.0.0.122", v6(122),
     "ims.mnc260.mcc310.3gppnetwork.org", [("+12025550100", "+12025550199")],
     "OPTIONS keepalive every 5 s"),
    ("vnet", "visited network P-CSCF (roaming partner, France)", "127.0.0.123", v6(123),
     "ims.mnc010.mcc208.3gppnetwork.org", [],
     "REGISTER (401 then 200 with digest) for home subscribers roaming in 208-10; "
     "over TCP from ports 5271 (b06) and 5272 (b11)"),
    ("delta", "transit carrier (Germany)", "127.0.0.131", None,
     "ims.mnc007.mcc262.3gppnetwork.org", [("+493090182000", "+493090182999")],
     "transit calls; carries the IRSF bursts in b09"),
    ("echo", "international carrier (Cote d'Ivoire)", "127.0.0.141", None,
     "ims.mnc003.mcc612.3gppnetwork.org", [("+2250700000000", "+2250799999999")],
     "international calls to home; carries the Wangiri calls in b08"),
    ("foxtrot", "interconnect partner (Sweden)", "127.0.0.151", None,
     "ims.mnc008.mcc240.3gppnetwork.org", [("+46701740600", "+46701740699")],
     "calls with P-Asserted-Identity in its own range; spoofs it on every 3rd call in b10"),
]
PARTNER = {p[0]: p for p in PARTNERS}

# trunks told apart by port (b15, b16): name, role, address with port, IMS
# domain, allowed CLI ranges, notes.  These partners are identified by
# address AND port (trunks.tsv, converted with --ports keep), unlike the ones
# above (partners.tsv, --ports drop: any port of the address).
TRUNK4 = "127.0.0.161"               # one SBC address, two trunks (b15)
SHARED6 = v6(160)                    # every peer of b16 shares this address
TRUNKS = [
    ("golf", "interconnect partner (Spain), trunk 1 of the shared SBC", "%s:5270" % TRUNK4,
     "ims.mnc001.mcc214.3gppnetwork.org", [("+34911230000", "+34911239999")],
     "calls with P-Asserted-Identity in its own range (b15)"),
    ("hotel", "interconnect partner (Italy), trunk 2 of the shared SBC", "%s:5280" % TRUNK4,
     "ims.mnc010.mcc222.3gppnetwork.org", [("+39061230000", "+39061239999")],
     "spoofs golf's numbers and home numbers in b15"),
    ("india", "interconnect partner (Switzerland) on the shared IPv6 address", "[%s]:5270" % SHARED6,
     "ims.mnc001.mcc228.3gppnetwork.org", [("+41441230000", "+41441239999")],
     "calls over IPv6 (b16)"),
    ("juliet", "interconnect partner (Austria) on the shared IPv6 address", "[%s]:5280" % SHARED6,
     "ims.mnc001.mcc232.3gppnetwork.org", [("+43151230000", "+43151239999")],
     "OPTIONS keepalive and calls over IPv6 (b16)"),
]
TRUNK = {t[0]: t for t in TRUNKS}

# partners whose rights are set per partner (b25): not in the roster
# tables, tests/data/labelled/rights.policy defines them with their
# `register` AoRs and agreed methods.  name, address, domain
PBX_PILOT = "+447700800190"                          # kilo's trunk AoR (RFC 6140)
RIGHTS = [
    ("kilo", "127.0.0.165", "kilo-pbx.example"),      # enterprise PBX, registers its pilot
    ("lima", "127.0.0.166", "hub.lima.example"),      # messaging hub: MESSAGE by agreement
    ("mike", "127.0.0.167", "mike-pbx.example"),      # enterprise PBX without register rights
]
RIGHT = {r[0]: r for r in RIGHTS}

# attackers: unknown addresses
ATTACKERS4 = ["127.0.0.%d" % i for i in range(170, 200)]
ATTACKERS6 = [v6(i) for i in range(170, 200)]

HIGHRISK = [
    ("+53", "Cuba", "high termination rates; common IRSF destination"),
    ("+224", "Guinea", "common IRSF destination"),
    ("+225", "Cote d'Ivoire", "Wangiri origin; call-backs are charged at premium rates"),
    ("+232", "Sierra Leone", "common IRSF destination"),
    ("+239", "Sao Tome and Principe", "common IRSF destination"),
    ("+252", "Somalia", "common IRSF destination"),
    ("+370", "Lithuania", "premium and hijacked ranges resold for IRSF"),
    ("+371", "Latvia", "premium ranges resold for IRSF"),
    ("+675", "Papua New Guinea", "common IRSF destination"),
    ("+870", "Inmarsat", "satellite, very high termination rates"),
    ("+881", "Global Mobile Satellite System", "satellite, very high termination rates"),
    ("+882", "International Networks", "shared-cost international networks, IRSF favourite"),
    ("+883", "International Networks", "shared-cost international networks"),
]


def is_highrisk(number):
    return any(number.startswith(p) for p, _, _ in HIGHRISK)


def in_ranges(number, ranges):
    if not number.startswith("+") or not number[1:].isdigit():
        return False
    for lo, hi in ranges:
        if len(lo) == len(number) and lo <= number <= hi:
            return True
    return False
