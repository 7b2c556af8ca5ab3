"""What happens in each labelled capture: who sends what, when, and the episodes.

A capture is a Plan: its episodes (the labeller's input: which far-end
addresses, and for a source with two episodes which calls, belong to which
episode) and build(rng, work) which returns the steps of a run: one JSON
script for actors.py (every python user agent) and the external tools
(SIPp, sipvicious, malformed.py) with their start times and time limits.
The episodes are static; build() is seeded, so a re-run gives the same
numbers and timing (Call-IDs, tags, nonces and timestamps differ).
"""
import os
import random

import lab

HERE = os.path.dirname(os.path.abspath(__file__))
SV = os.path.join(HERE, "sv_bound.py")
MALF = os.path.join(HERE, "malformed.py")
SIPP_DIR = os.path.join(HERE, "sipp")
E4 = "%s:%d" % lab.EDGE4


class Ep:
    """An episode.  addrs: far-end IP addresses; rule: None, or
    ("pai_outside", partner) / ("called_highrisk",): which Call-IDs of a
    shared source belong here (decided by the first INVITE of the Call-ID)."""

    def __init__(self, label, kind, addrs, tool, note="", rule=None):
        self.label, self.kind, self.addrs = label, kind, list(addrs)
        self.tool, self.note, self.rule = tool, note, rule


class Plan:
    def __init__(self, name, seed, duration, summary, episodes, build, needs_v6=()):
        self.name, self.seed, self.duration, self.summary = name, seed, duration, summary
        self.episodes, self.build, self.needs_v6 = episodes, build, list(needs_v6)


class Proc:
    def __init__(self, key, at, argv, limit, env_home=False):
        self.key, self.at, self.argv, self.limit, self.env_home = key, at, argv, limit, env_home


# -- partner traffic ----------------------------------------------------------------
def actor(name, fam=4, port=lab.PARTNER_PORT, ims=True):
    p = lab.PARTNER[name]
    return {"name": name + ("6" if fam == 6 else ""), "ip": p[2] if fam == 4 else p[3],
            "port": port, "domain": p[4], "ims": ims, "actions": []}


def spread(rng, t0, t1, n):
    return sorted(round(rng.uniform(t0, t1), 3) for _ in range(n))


def home_callee(rng):
    return "+447700800%03d" % rng.randint(200, 999)


def alpha_calls(rng, t0, t1, n, fam=4, reinvites=1, cancel_frac=0.1):
    a = actor("alpha", fam)
    froms = rng.sample(range(0, 1000), n)
    ncancel = max(1, int(round(n * cancel_frac)))
    cancels = set(rng.sample(range(n), ncancel))
    reinv = set(rng.sample(sorted(set(range(n)) - cancels), reinvites)) if reinvites else set()
    for i, at in enumerate(spread(rng, t0, t1, n)):
        num = "+33639800%03d" % froms[i]
        c = {"at": at, "op": "call", "from": num, "pai": num, "to": home_callee(rng),
             "talk": round(rng.uniform(2, 6), 2)}
        if i in cancels:
            c["cancel"] = round(rng.uniform(1.5, 3.0), 2)
        if i in reinv:
            c["reinvite"] = True
        a["actions"].append(c)
    return a


def bravo_keepalive(t0, t1, fam=4, every=5.0):
    a = actor("bravo", fam)
    t = t0
    while t < t1:
        a["actions"].append({"at": round(t, 3), "op": "options"})
        t += every
    return a


def vnet_registers(rng, t0, t1, users, fam=4, tcp_port=None):
    a = actor("vnet", fam, port=tcp_port or lab.PARTNER_PORT)
    if tcp_port:
        a["transport"] = "tcp"
    for at, u in zip(spread(rng, t0, t1, len(users)), users):
        a["actions"].append({"at": at, "op": "register", "user": u, "password": lab.password(u),
                             "expires": 600})
    return a


ROAMERS = ["+4477008001%02d" % i for i in range(1, 7)]      # roaming in 208-10 via vnet


def background(rng, d, fam=4, n_alpha=None, users=4, vnet_tcp_port=None):
    """alpha calls, bravo keepalives, vnet registrations over d seconds
    (vnet over one TCP connection from vnet_tcp_port when given)."""
    n_alpha = n_alpha or max(6, int(d / 4))
    return [alpha_calls(rng, 0.5, d - 12, n_alpha, fam),
            bravo_keepalive(0.3, d - 1, fam),
            vnet_registers(rng, 1.0, d - 3, rng.sample(ROAMERS, users), fam, vnet_tcp_port)]


def foxtrot_calls(rng, t0, t1, n, spoof_every=0):
    a = actor("foxtrot")
    spoofed = []
    pool = ["+447700800%03d" % rng.randint(200, 999), "+33639800%03d" % rng.randint(0, 999),
            "+12025550%03d" % rng.randint(100, 199), "+8613800%06d" % rng.randint(0, 999999),
            "+447700800%03d" % rng.randint(200, 999), "+33639800%03d" % rng.randint(0, 999),
            "+12025550%03d" % rng.randint(100, 199), "+447700800%03d" % rng.randint(200, 999),
            "+8613900%06d" % rng.randint(0, 999999), "+447700800%03d" % rng.randint(200, 999)]
    for i, at in enumerate(spread(rng, t0, t1, n)):
        own = "+46701740%03d" % rng.randint(600, 699)
        c = {"at": at, "op": "call", "from": own, "pai": own, "to": home_callee(rng),
             "talk": round(rng.uniform(2, 5), 2)}
        if spoof_every and i % spoof_every == spoof_every - 1:
            fake = pool[len(spoofed) % len(pool)]
            c["from"] = c["pai"] = fake
            spoofed.append(fake)
        a["actions"].append(c)
    return a


def delta_transit(rng, t0, t1, n):
    a = actor("delta")
    for at in spread(rng, t0, t1, n):
        num = "+493090182%03d" % rng.randint(0, 999)
        to = rng.choice([home_callee(rng), home_callee(rng), "+34915550%03d" % rng.randint(0, 999),
                         "+3906555%04d" % rng.randint(0, 9999)])
        a["actions"].append({"at": at, "op": "call", "from": num, "pai": num, "to": to,
                             "talk": round(rng.uniform(3, 8), 2)})
    return a


def echo_calls(rng, t0, t1, n):
    a = actor("echo")
    for at in spread(rng, t0, t1, n):
        num = "+22507%08d" % rng.randint(0, 99999999)
        a["actions"].append({"at": at, "op": "call", "from": num, "pai": num,
                             "to": home_callee(rng), "talk": round(rng.uniform(3, 7), 2)})
    return a


def sipp(key, at, scenario, local, remote, ctrl, extra, limit, transport="u1"):
    ip, port = local
    argv = ["sipp", remote, "-sf", os.path.join(SIPP_DIR, scenario), "-t", transport,
            "-i", ip, "-p", str(port), "-mi", ip, "-mp", "5290", "-cp", str(ctrl),
            "-nostdin", "-trace_err", "-error_file", "{work}/%s.errors.log" % key,
            "-timeout", "%ds" % limit, "-recv_timeout", "3000", "-timeout_error"] + extra
    return Proc(key, at, argv, limit + 5)


def csv_file(work, name, rows):
    path = os.path.join(work, name)
    with open(path, "w") as f:
        f.write("SEQUENTIAL\n")
        for r in rows:
            f.write(";".join(r) + "\n")
    return path


# -- episodes shared by every capture -----------------------------------------------------
def bg_eps(fam=4, vnet_tcp=False):
    sfx = "-v6" if fam == 6 else ""
    i = 2 if fam == 4 else 3
    if vnet_tcp:
        return bg_eps(fam)[:2] + [
            Ep("vnet-roaming" + sfx, "legit", [lab.PARTNER["vnet"][i]],
               "actors.py register over TCP (IMS roaming, digest, one connection)",
               "REGISTER/401, REGISTER with Authorization/200 for home subscribers roaming in "
               "208-10, all on one TCP connection")]
    return [
        Ep("alpha-calls" + sfx, "legit", [lab.PARTNER["alpha"][i]],
           "actors.py call (partner alpha, ~10% abandoned, a re-INVITE)",
           "INVITE/100/180/200/ACK, talk 2-6 s, BYE/200; abandoned: CANCEL/200/487/ACK"),
        Ep("bravo-keepalive" + sfx, "legit", [lab.PARTNER["bravo"][i]],
           "actors.py options every 5 s", "OPTIONS answered 200"),
        Ep("vnet-roaming" + sfx, "legit", [lab.PARTNER["vnet"][i]],
           "actors.py register (IMS roaming, digest)",
           "REGISTER/401, REGISTER with Authorization/200 for home subscribers roaming in 208-10"),
    ]


A = lab.ATTACKERS4
A6 = lab.ATTACKERS6


# -- the captures ---------------------------------------------------------------------------
def b01(rng, work):
    d = 50
    actors = [alpha_calls(rng, 0.5, d - 12, 14, reinvites=2, cancel_frac=0.14),
              bravo_keepalive(0.3, d - 1),
              vnet_registers(rng, 1.0, d - 3, ROAMERS),
              delta_transit(rng, 2, d - 13, 6),
              echo_calls(rng, 3, d - 12, 4),
              foxtrot_calls(rng, 2, d - 10, 6)]
    return actors, []


def b02(rng, work):
    d = 40
    return background(rng, d), [
        Proc("svmap", 8, ["svmap", "-p5260-5262", "127.0.0.8-127.0.0.12", "-b", A[1], "-P", "5277",
                          "-t", "0.05"], 25, env_home=True),
        Proc("svmap-invite", 22, ["svmap", "-m", "INVITE", "-p5260", "127.0.0.10", "-b", A[2],
                                  "-P", "5278", "-t", "0.05"], 10, env_home=True)]


def b03(rng, work):
    d = 40
    return background(rng, d), [
        Proc("svwar", 8, [SV, "svwar", "-e1000-1020,447700800090-447700800125", "-p", "5260",
                          "-b", A[3], "-P", "5277", "-t", "0.03", "127.0.0.10"], 25, env_home=True)]


CRACK_DICT = ["123456", "password", "1234", "12345678", "admin", "qwerty", "secret", "letmein",
              "welcome", "monkey", "dragon", "sunshine", "master", "abc123", "voip", "sip",
              "asterisk", "changeme", "passw0rd", "football", "iloveyou", "trustno1", "pass1234",
              "summer2024", "winter2024", lab.CRACK_PASSWORD, "batman", "shadow"]


def b04(rng, work):
    d = 40
    dic = os.path.join(work, "svcrack.dict")
    with open(dic, "w") as f:
        f.write("\n".join(CRACK_DICT) + "\n")
    return background(rng, d), [
        Proc("svcrack", 8, [SV, "svcrack", "-u", lab.CRACK_USER.lstrip("+"), "-d", dic, "-p", "5260",
                            "-b", A[4], "-P", "5277", "-t", "0.1", "127.0.0.10"], 25, env_home=True)]


SLOW_GUESSES = ["123456", "password", "letmein", "qwerty", "welcome", "sunshine", "football",
                "monkey", "dragon", "master", "shadow", "baseball", "superman", "trustno1",
                "princess", "starwars", "cheese", "orange", "biscuit", lab.SLOW_PASSWORD]


def b05(rng, work):
    d = 200
    att = {"name": "slowbrute", "ip": A[5], "port": 5277, "domain": "example.invalid",
           "ims": False, "ua": "Linphone/4.4.0",
           "actions": [{"at": 3.0, "op": "bruteforce", "user": lab.SLOW_USER,
                        "passwords": SLOW_GUESSES, "interval": [8.6, 9.4, 8.2, 9.8, 9.0, 8.8]}]}
    return background(rng, d, n_alpha=24, users=6) + [att], []


def b06(rng, work):
    d = 35
    rows = [("+4477008001%02d" % (i % 100),) for i in range(800)]
    csv_file(work, "reg.csv", rows)
    return background(rng, d, vnet_tcp_port=5271), [
        sipp("regflood", 10, "register_flood.xml", (A[6], 5276), E4, 5286,
             ["-inf", "{work}/reg.csv", "-r", "250", "-m", "650", "-l", "300"], 15, transport="t1")]


def b07(rng, work):
    d = 35
    rows = [("+44770088%04d" % i, "+3726%07d" % rng.randint(0, 9999999)) for i in range(700)]
    csv_file(work, "flood.csv", rows)
    acts = background(rng, d)
    acts.append(bravo_keepalive(1.3, d - 1, fam=6))
    return acts, [
        sipp("invflood6", 10, "invite_flood.xml", (A6[7], 5277), "[::1]:5260", 5287,
             ["-inf", "{work}/flood.csv", "-r", "200", "-m", "500", "-l", "300"], 15)]


def b08(rng, work):
    d = 55
    acts = background(rng, d)
    w = actor("echo")
    a_nums = ["+22507123450%02d" % x for x in rng.sample(range(100), 20)]
    uses = []
    for n in a_nums:
        uses += [n] * rng.randint(1, 3)
    rng.shuffle(uses)
    uses = uses[:40]
    callees = rng.sample(range(200, 1000), len(uses))
    t = 5.0
    for n, c in zip(uses, callees):
        w["actions"].append({"at": round(t, 3), "op": "call", "from": n, "pai": n,
                             "to": "+447700800%03d" % c, "cancel": round(rng.uniform(1.0, 3.0), 2),
                             "ua": "echo-ibcf"})
        t += rng.uniform(0.6, 1.1)
    acts.append(w)
    return acts, []


def b09(rng, work):
    d = 70
    acts = background(rng, d)
    dl = delta_transit(rng, 1, d - 14, 8)
    for a in dl["actions"]:            # legit transit: home numbers only in this capture
        a["to"] = home_callee(rng)

    def irsf(at, to, talk):
        num = "+493090182%03d" % rng.randint(0, 999)
        dl["actions"].append({"at": round(at, 3), "op": "call", "from": num, "pai": num, "to": to,
                              "talk": round(talk, 2)})
    t = 8.0
    for i in range(12):                # burst 1: sequential B numbers in +882
        irsf(t, "+8823456780%02d" % (10 + i), rng.uniform(3, 9))
        t += rng.uniform(0.15, 0.4)
    t = 24.0
    for i in range(10):                # burst 2: +53, +252, +881, +239 mixed
        to = rng.choice(["+5378%06d" % rng.randint(0, 999999), "+25261%07d" % rng.randint(0, 9999999),
                         "+8816%08d" % rng.randint(0, 99999999), "+2399%06d" % rng.randint(0, 999999)])
        irsf(t, to, rng.uniform(2, 7))
        t += rng.uniform(0.2, 0.5)
    irsf(38.0, "+37069912345", 5.0)    # test call ...
    irsf(45.0, "+37069912377", 20.0)   # ... then the long one to the same range
    dl["actions"].sort(key=lambda a: a["at"])
    acts.append(dl)
    return acts, []


def b10(rng, work):
    d = 55
    acts = background(rng, d)
    acts.append(foxtrot_calls(rng, 2, d - 10, 24, spoof_every=3))
    return acts, []


def b11(rng, work):
    d = 40
    return background(rng, d, vnet_tcp_port=5272), [
        Proc("malformed", 8, ["python3", MALF, "--src", "%s:5277" % A[11], "--dst", E4,
                              "--transport", "both", "--gap-ms", "300", "--seed", "11"], 25)]


def b12(rng, work):
    d = 60
    acts = [alpha_calls(rng, 0.5, d - 12, 8, fam=6), bravo_keepalive(0.3, d - 1, fam=6),
            vnet_registers(rng, 1.0, d - 3, rng.sample(ROAMERS, 4), fam=6),
            alpha_calls(rng, 1.0, d - 12, 8, fam=4, reinvites=0), bravo_keepalive(2.8, d - 1, fam=4),
            foxtrot_calls(rng, 3, d - 10, 5)]
    rows = [("+44770088%04d" % i, "+3726%07d" % rng.randint(0, 9999999)) for i in range(400)]
    csv_file(work, "flood.csv", rows)
    return acts, [
        Proc("svmap", 10, ["svmap", "-p5260-5261", "127.0.0.9-127.0.0.11", "-b", A[12], "-P", "5277",
                           "-t", "0.05"], 20, env_home=True),
        sipp("invflood6", 30, "invite_flood.xml", (A6[13], 5277), "[::1]:5260", 5287,
             ["-inf", "{work}/flood.csv", "-r", "150", "-m", "300", "-l", "300"], 15)]


SPRAY_PASSWORDS = ["Winter2026!", "Welcome1", "Password1", "Spring2026"]
SPRAY_USERS = ["+4477008001%02d" % i for i in range(10, 50)]    # 40 subscribers
SPRAY_ADDRS = A[14:18]                                           # four addresses of one /24


def b13(rng, work):
    """Password spraying, slow and spread: one guess every ~3 s in all, the
    four addresses taking turns (each ~12 s apart), one password tried on
    every user before the next; each guess is REGISTER/401, REGISTER with
    the wrong digest/401."""
    d = 175
    acts = background(rng, d, n_alpha=30, users=6)
    sprayers = [{"name": "spray%d" % i, "ip": ip, "port": 5277, "domain": "example.invalid",
                 "ims": False, "ua": "Zoiper rv2.10.20.3", "actions": []}
                for i, ip in enumerate(SPRAY_ADDRS)]
    t = 5.0
    for k in range(52):
        user = SPRAY_USERS[k % len(SPRAY_USERS)]
        pw = SPRAY_PASSWORDS[k // len(SPRAY_USERS)]
        sprayers[k % 4]["actions"].append({"at": round(t, 3), "op": "register", "user": user,
                                           "password": pw, "expires": 3600})
        t += rng.uniform(2.7, 3.3)
    return acts + sprayers, []


SUCCESS_USER = "+447700800170"
SUCCESS_GUESSES = ["123456", "0000", "password", lab.password(SUCCESS_USER)]


def b14(rng, work):
    """A brute force that succeeds early: three wrong guesses, the fourth
    right (far below the guessing threshold)."""
    d = 45
    att = {"name": "luckycrack", "ip": A[18], "port": 5277, "domain": "example.invalid",
           "ims": False, "ua": "MicroSIP/3.21.3",
           "actions": [{"at": 8.0, "op": "bruteforce", "user": SUCCESS_USER,
                        "passwords": SUCCESS_GUESSES, "interval": [4.1, 5.3, 4.7]}]}
    return background(rng, d) + [att], []


def trunk_actor(name, **kw):
    """A partner of lab.TRUNKS: its socket is the address AND port of its row."""
    t = lab.TRUNK[name]
    m = t[2].rsplit(":", 1)
    a = {"name": name, "ip": m[0].strip("[]"), "port": int(m[1]), "domain": t[3], "ims": True,
         "actions": []}
    a.update(kw)
    return a


def own_calls(rng, a, t0, t1, n, lo, hi, talk=(2, 6)):
    """n answered calls from numbers of [lo, hi] (the partner's own range) to home."""
    for at in spread(rng, t0, t1, n):
        num = "+%d" % rng.randint(int(lo), int(hi))
        a["actions"].append({"at": at, "op": "call", "from": num, "pai": num, "to": home_callee(rng),
                             "talk": round(rng.uniform(*talk), 2)})
    return a


def b15(rng, work):
    """Two trunks behind one SBC address: golf (port 5270) calls with its own
    numbers; hotel (port 5280) asserts golf's numbers and home numbers."""
    d = 50
    golf = own_calls(rng, trunk_actor("golf"), 1.0, d - 10, 14, 34911230000, 34911239999)
    hotel = trunk_actor("hotel")
    for i, at in enumerate(spread(rng, 3.0, d - 10, 12)):
        fake = ("+3491123%04d" % rng.randint(0, 9999)) if i % 3 else home_callee(rng)
        hotel["actions"].append({"at": at, "op": "call", "from": fake, "pai": fake,
                                 "to": home_callee(rng), "talk": round(rng.uniform(2, 4), 2)})
    return [golf, hotel, bravo_keepalive(0.3, d - 1)], []


def b16(rng, work):
    """IPv6 only, every peer on one address: india (port 5270) calls, juliet
    (port 5280) keepalives and calls, an INVITE flood from port 5291."""
    d = 40
    india = own_calls(rng, trunk_actor("india"), 0.5, d - 10, 10, 41441230000, 41441239999)
    juliet = own_calls(rng, trunk_actor("juliet"), 2.0, d - 10, 5, 43151230000, 43151239999)
    t = 0.7
    while t < d - 1:
        juliet["actions"].append({"at": round(t, 3), "op": "options"})
        t += 4.0
    juliet["actions"].sort(key=lambda a: a["at"])
    rows = [("+44770088%04d" % i, "+3726%07d" % rng.randint(0, 9999999)) for i in range(500)]
    csv_file(work, "flood.csv", rows)
    return [india, juliet], [
        sipp("invflood6", 12, "invite_flood.xml", (lab.SHARED6, 5291), "[::1]:5260", 5288,
             ["-inf", "{work}/flood.csv", "-r", "120", "-m", "400", "-l", "300"], 15)]


SPRAY2_ADDRS = ["127.166.5.%d" % i for i in range(20, 26)]     # six addresses of another /24
SPRAY2_USERS = ["+4477008001%02d" % i for i in range(50, 96)]  # 46 subscribers, one guess each


def b17(rng, work):
    """Slow spraying, other parameters than b13: six addresses of another /24
    picked at random for each guess, one password over 46 subscribers,
    3.0-4.2 s apart in all, fresh Call-ID per guess."""
    d = 185
    acts = background(rng, d, n_alpha=30, users=6)
    sprayers = [{"name": "spray2-%d" % i, "ip": ip, "port": 5266, "domain": "example.invalid",
                 "ims": False, "ua": "sipcli/v1.8", "actions": []}
                for i, ip in enumerate(SPRAY2_ADDRS)]
    t = 6.0
    for user in SPRAY2_USERS:
        rng.choice(sprayers)["actions"].append({"at": round(t, 3), "op": "register", "user": user,
                                                "password": "Summer2026!", "expires": 1800})
        t += rng.uniform(3.0, 4.2)
    return acts + [s for s in sprayers if s["actions"]], []


SUCCESS2_USER = "+447700800175"
SUCCESS2_GUESSES = ["1234", "0000", "12345678", "password1", "qwerty123", "iloveyou", "000000",
                    lab.password(SUCCESS2_USER)]


def b18(rng, work):
    """A brute force that succeeds, other parameters than b14: IPv6, over one
    TCP connection, seven wrong guesses 1.2-2.0 s apart, the eighth right."""
    d = 40
    att = {"name": "tcpcrack6", "ip": lab.ATTACKERS6[20], "port": 5277, "domain": "example.invalid",
           "ims": False, "ua": "Bria 6.5.2", "transport": "tcp",
           "actions": [{"at": 7.0, "op": "bruteforce", "user": SUCCESS2_USER,
                        "passwords": SUCCESS2_GUESSES, "interval": [1.2, 1.7, 2.0, 1.4, 1.9]}]}
    return background(rng, d) + [att], []


IRSF_TARGETS = ["+88234567%04d", "+5378%06d", "+88160%06d", "+252611%06d"]


def b19(rng, work):
    """Attacks from partner addresses between the partner's legitimate
    traffic: alpha (127.0.0.121:5270) places IRSF calls to high-risk ranges
    in between its normal calls; from bravo's address (another port) svmap
    sweeps while bravo's keepalives go on."""
    d = 60
    acts = background(rng, d, n_alpha=16)
    alpha = acts[0]
    for i, at in enumerate(spread(rng, 6.0, d - 14, 9)):
        fmt = IRSF_TARGETS[i % len(IRSF_TARGETS)]
        num = "+33639800%03d" % rng.randint(0, 999)
        alpha["actions"].append({"at": at, "op": "call", "from": num, "pai": num,
                                 "to": fmt % rng.randint(0, 9999),
                                 "talk": round(rng.uniform(4, 9), 2)})
    alpha["actions"].sort(key=lambda a: a["at"])
    bravo_ip = lab.PARTNER["bravo"][2]
    return acts, [
        Proc("svmap", 20, ["svmap", "-p5260-5262", "127.0.0.9-127.0.0.11", "-b", bravo_ip,
                           "-P", "5279", "-t", "0.08"], 20, env_home=True)]


def b20(rng, work):
    """An INVITE flood from a partner's own socket between its legitimate
    calls: transit carrier delta (127.0.0.131:5270) places its normal
    transit calls all along, and in the middle 240 INVITEs in ~2.4 s to the
    unassigned block (each 404, then ACK)."""
    d = 45
    acts = background(rng, d, n_alpha=8)
    dl = delta_transit(rng, 1, d - 14, 10)
    for a in dl["actions"]:            # home numbers only: every legit call is answered
        a["to"] = home_callee(rng)
    t = 18.0
    for i in range(240):
        num = "+493090182%03d" % rng.randint(0, 999)
        dl["actions"].append({"at": round(t, 3), "op": "call", "from": num, "pai": num,
                              "to": "%s%04d" % (lab.UNASSIGNED_PREFIX, i), "talk": 1})
        t += rng.uniform(0.007, 0.013)
    dl["actions"].sort(key=lambda a: a["at"])
    acts.append(dl)
    return acts, []


WRONG44_PREFIX = "+44207946"      # other +44 numbers: the edge answers 404


def b21(rng, work):
    """A partner flood with other parameters than b20: carrier echo
    (127.0.0.141:5270), slower and longer -- 300 INVITEs at ~25/s over
    ~12 s to other +44 numbers (404 each) -- between echo's normal calls."""
    d = 50
    acts = background(rng, d, n_alpha=8)
    ec = echo_calls(rng, 1, d - 14, 8)
    t = 15.0
    for i in range(300):
        num = "+22507%08d" % rng.randint(0, 99999999)
        ec["actions"].append({"at": round(t, 3), "op": "call", "from": num, "pai": num,
                              "to": "%s%04d" % (WRONG44_PREFIX, rng.randint(0, 9999)), "talk": 1})
        t += rng.uniform(0.032, 0.048)
    ec["actions"].sort(key=lambda a: a["at"])
    acts.append(ec)
    return acts, []


def b22(rng, work):
    """A partner's legitimate busy-hour ramp that must not trip: transit
    carrier delta goes from ~1 to ~26 new calls/s over 15 s and holds it
    for 5 s (over the burst floor, before any rate is learned); the calls
    connect (onward routing and home numbers, answered), about one in seven
    fails (404 to other +44 numbers), as in a real busy hour."""
    d = 40
    acts = background(rng, d, n_alpha=8)
    dl = actor("delta")
    t, t_ramp, t_end = 3.0, 20.0, 25.0
    while t < t_end:
        rate = 1.0 + 25.0 * min(1.0, max(0.0, (t - 5.0) / (t_ramp - 5.0)))
        num = "+493090182%03d" % rng.randint(0, 999)
        r = rng.random()
        to = ("%s%04d" % (WRONG44_PREFIX, rng.randint(0, 9999)) if r < 0.14 else
              home_callee(rng) if r < 0.3 else
              "+34915550%03d" % rng.randint(0, 999) if r < 0.65 else
              "+3906555%04d" % rng.randint(0, 9999))
        dl["actions"].append({"at": round(t, 3), "op": "call", "from": num, "pai": num, "to": to,
                              "talk": round(rng.uniform(0.5, 1.5), 2)})
        t += rng.uniform(0.7, 1.3) / rate
    acts.append(dl)
    return acts, []


def b23(rng, work):
    """A Wangiri campaign spread over two transit carriers (echo and delta):
    A-numbers rotate over the whole +2250712 range (every A in a
    1000-block of its own, once or twice), one ring of 1-2.6 s, alternating
    carriers: no caller, no A prefix and no carrier reaches 20 callees."""
    d = 50
    acts = background(rng, d)
    carriers = [actor("echo"), actor("delta")]
    blocks = rng.sample(range(1000), 24)
    uses = [b for b in blocks for _ in range(rng.randint(1, 2))][:34]
    rng.shuffle(uses)
    callees = rng.sample(range(200, 1000), len(uses))
    t = 4.0
    for i, (blk, c) in enumerate(zip(uses, callees)):
        num = "+2250712%03d%03d" % (blk, rng.randint(0, 999))
        carriers[rng.random() < 0.5]["actions"].append(
            {"at": round(t, 3), "op": "call", "from": num, "pai": num,
             "to": "+447700800%03d" % c, "cancel": round(rng.uniform(1.0, 2.6), 2),
             "ua": "carrier-ibcf"})
        t += rng.uniform(0.7, 1.2)
    return acts + carriers, []


WALK_RANGE = "+5378123"                                # Cuba, one 10000-block


def b24(rng, work):
    """IRSF number walking from transit carrier delta (rotating A-numbers,
    consecutive B-numbers of one Cuban block, answered) next to partner
    alpha's legitimate calls to the same countries (+53, +252: a few, long)."""
    d = 55
    acts = background(rng, d, n_alpha=12)
    alpha = acts[0]
    for at, to in zip(spread(rng, 6, d - 20, 3),
                      ["+5378%06d" % rng.randint(0, 999999), "+252611%06d" % rng.randint(0, 999999),
                       "+5372%06d" % rng.randint(0, 999999)]):
        num = "+33639800%03d" % rng.randint(0, 999)
        alpha["actions"].append({"at": at, "op": "call", "from": num, "pai": num, "to": to,
                                 "talk": round(rng.uniform(8, 14), 2)})
    alpha["actions"].sort(key=lambda a: a["at"])
    dl = actor("delta")
    start = rng.randint(100, 800)
    t = 10.0
    for i in range(14):
        num = "+493090182%03d" % rng.randint(0, 999)
        step = 1 if rng.random() < 0.8 else 2              # near-sequential
        start += step
        dl["actions"].append({"at": round(t, 3), "op": "call", "from": num, "pai": num,
                              "to": "%s%03d" % (WALK_RANGE, start % 1000),
                              "talk": round(rng.uniform(2, 5), 2)})
        t += rng.uniform(0.8, 1.6)
    return acts + [dl], []


def right_actor(name):
    r = lab.RIGHT[name]
    return {"name": name, "ip": r[1], "port": lab.PARTNER_PORT, "domain": r[2], "ims": False,
            "actions": []}


def b25(rng, work):
    """Rights per partner: enterprise PBX kilo registers its own trunk AoR
    (RFC 6140 pilot number, digest) and calls; messaging hub lima sends
    MESSAGEs by agreement, a conversation with one subscriber among them;
    PBX mike, which may register nothing, REGISTERs home subscribers' AoRs."""
    d = 40
    acts = background(rng, d)
    kilo = right_actor("kilo")
    for at in (2.0, 20.0):
        kilo["actions"].append({"at": at, "op": "register", "user": lab.PBX_PILOT,
                                "password": lab.password(lab.PBX_PILOT), "expires": 600})
    for at in spread(rng, 5, d - 12, 4):
        kilo["actions"].append({"at": at, "op": "call", "from": lab.PBX_PILOT, "pai": lab.PBX_PILOT,
                                "to": "+34915550%03d" % rng.randint(0, 999),
                                "talk": round(rng.uniform(2, 5), 2)})
    kilo["actions"].sort(key=lambda a: a["at"])
    lima = right_actor("lima")
    friend = home_callee(rng)
    for i, at in enumerate(spread(rng, 3, d - 4, 9)):
        to = friend if i % 2 == 0 else home_callee(rng)
        lima["actions"].append({"at": at, "op": "message", "from": "+12025550%03d" % rng.randint(100, 199),
                                "to": to, "text": "msg %d" % i})
    mike = right_actor("mike")
    for at, user in zip(spread(rng, 8, d - 8, 3), rng.sample(range(101, 140), 3)):
        mike["actions"].append({"at": at, "op": "register", "user": "+447700800%03d" % user,
                                "password": "not-the-password", "expires": 3600})
    return acts + [kilo, lima, mike], []


P = lab.PARTNER
PLANS = [
    Plan("b01_legit", 101, 50, "legitimate traffic only: every partner", [
        bg_eps()[0], bg_eps()[1],
        Ep("vnet-roaming", "legit", [P["vnet"][2]], "actors.py register (IMS roaming, digest)",
           "REGISTER/401, REGISTER with Authorization/200 for 6 home subscribers roaming in 208-10"),
        Ep("delta-transit", "legit", [P["delta"][2]], "actors.py call (transit carrier delta)",
           "transit calls to home numbers and to +34/+39 (onward routing), answered, talk 3-8 s"),
        Ep("echo-calls", "legit", [P["echo"][2]], "actors.py call (international carrier echo)",
           "calls from distinct +22507 numbers to home, answered"),
        Ep("foxtrot-calls", "legit", [P["foxtrot"][2]], "actors.py call (partner foxtrot)",
           "P-Asserted-Identity in foxtrot's own range +46701740600-699"),
    ], b01),
    Plan("b02_scan_udp", 102, 40, "svmap OPTIONS sweep and an INVITE probe", bg_eps() + [
        Ep("svmap-sweep", "scan", [A[1]],
           "svmap -p5260-5262 127.0.0.8-127.0.0.12 -b %s -P 5277 -t 0.05" % A[1],
           "OPTIONS to 5 addresses x 3 ports; only 127.0.0.10:5260 answers (200), "
           "closed ports give ICMP port unreachable"),
        Ep("svmap-invite-probe", "scan", [A[2]],
           "svmap -m INVITE -p5260 127.0.0.10 -b %s -P 5278" % A[2],
           "one INVITE probe to the edge, answered 404"),
    ], b02),
    Plan("b03_enum", 103, 40, "svwar REGISTER enumeration", bg_eps() + [
        Ep("svwar-enum", "enum", [A[3]],
           "sv_bound.py svwar -e1000-1020,447700800090-447700800125 -p 5260 -b %s -P 5277 -t 0.03"
           % A[3],
           "REGISTER per extension; 1000-1009 and 447700800100-125 exist (401), the rest 404"),
    ], b03),
    Plan("b04_crack", 104, 40, "svcrack digest dictionary attack, succeeds", bg_eps() + [
        Ep("svcrack", "crack", [A[4]],
           "sv_bound.py svcrack -u %s -d dict(%d words) -p 5260 -b %s -P 5277 -t 0.1"
           % (lab.CRACK_USER.lstrip("+"), len(CRACK_DICT), A[4]),
           "REGISTER/401 then one guess per challenge; the %dth guess gets 200"
           % (CRACK_DICT.index(lab.CRACK_PASSWORD) + 1)),
    ], b04),
    Plan("b05_slow_bruteforce", 105, 200, "slow REGISTER digest guessing, ~1 guess per 9 s",
         bg_eps() + [
             Ep("slow-bruteforce", "crack", [A[5]], "actors.py bruteforce interval 8.2-9.8 s",
                "one Call-ID; REGISTER/401 then %d guesses 8.2-9.8 s apart, the last succeeds (200); "
                "real time, not stretched" % len(SLOW_GUESSES)),
         ], b05),
    Plan("b06_register_flood_tcp", 106, 35, "REGISTER flood over TCP", bg_eps(vnet_tcp=True) + [
        Ep("register-flood-tcp", "flood", [A[6]],
           "sipp -t t1 register_flood.xml -r 250 -m 650 (one TCP connection)",
           "650 REGISTERs in ~3 s on one TCP connection, each answered 401"),
    ], b06),
    Plan("b07_invite_flood_ipv6", 107, 35, "INVITE flood over IPv6 UDP to an unassigned block",
         bg_eps() + [
             Ep("bravo-keepalive-v6", "legit", [P["bravo"][3]], "actors.py options every 5 s (IPv6)",
                "OPTIONS to [::1]:5260 answered 200"),
             Ep("invite-flood-v6", "flood", [A6[7]],
                "sipp [::1]:5260 invite_flood.xml -r 200 -m 500 -i %s" % A6[7],
                "500 INVITEs in ~3 s to +447700880000.. (unassigned), each 404 then ACK"),
         ], b07, needs_v6=[P["bravo"][3], A6[7]]),
    Plan("b08_wangiri_rotating", 108, 55, "Wangiri from carrier echo, rotating A-numbers",
         bg_eps() + [
             Ep("wangiri-echo", "wangiri", [P["echo"][2]],
                "actors.py call with cancel 1-3 s after 180 (carrier echo)",
                "40 calls, 20 A-numbers +22507123450xx (1-3 calls each), 40 distinct home "
                "callees, every call CANCELled 1-3 s after 180 (200/487/ACK)"),
         ], b08),
    Plan("b09_irsf_transit", 109, 70, "IRSF through transit carrier delta", bg_eps() + [
        Ep("irsf-delta", "irsf", [P["delta"][2]],
           "actors.py call (delta, called numbers in high-risk ranges)",
           "burst of 12 calls to sequential +88234567801x-02x, burst of 10 to +53/+252/+881/+239, "
           "then a 5 s test call to +370699123xx and a 20 s call to the same range; all answered",
           rule=("called_highrisk",)),
        Ep("delta-transit", "legit", [P["delta"][2]], "actors.py call (transit carrier delta)",
           "transit calls to home numbers, answered"),
    ], b09),
    Plan("b10_cli_spoof", 110, 55, "partner foxtrot spoofs P-Asserted-Identity on every 3rd call",
         bg_eps() + [
             Ep("cli-spoof-foxtrot", "cli-spoof", [P["foxtrot"][2]],
                "actors.py call (foxtrot, PAI outside its range on every 3rd call)",
                "PAI/From of home numbers, alpha/bravo ranges and +86; foxtrot may only assert "
                "+46701740600-+46701740699", rule=("pai_outside", "foxtrot")),
             Ep("foxtrot-calls", "legit", [P["foxtrot"][2]], "actors.py call (partner foxtrot)",
                "P-Asserted-Identity in foxtrot's own range"),
         ], b10),
    Plan("b11_malformed_tcp", 111, 40, "malformed SIP over UDP and TCP", bg_eps(vnet_tcp=True) + [
        Ep("malformed", "malformed", [A[11]],
           "malformed.py --src %s:5277 --dst %s --transport both --gap-ms 300 --seed 11" % (A[11], E4),
           "UDP: one datagram per catalogue entry; TCP: one connection per entry "
           "(malformed.py --list)"),
    ], b11),
    Plan("b12_mixed_v6", 112, 60, "mixed: IPv6 and IPv4 partners, svmap scan, IPv6 INVITE flood",
         bg_eps(6) + [bg_eps()[0], bg_eps()[1],
                      Ep("foxtrot-calls", "legit", [P["foxtrot"][2]], "actors.py call (partner foxtrot)",
                         "P-Asserted-Identity in foxtrot's own range"),
                      Ep("svmap-sweep", "scan", [A[12]],
                         "svmap -p5260-5261 127.0.0.9-127.0.0.11 -b %s -P 5277 -t 0.05" % A[12],
                         "OPTIONS to 3 addresses x 2 ports; ICMP port unreachable for closed ones"),
                      Ep("invite-flood-v6", "flood", [A6[13]],
                         "sipp [::1]:5260 invite_flood.xml -r 150 -m 300 -i %s" % A6[13],
                         "300 INVITEs in ~2 s to the unassigned block, 404 then ACK")],
         b12, needs_v6=[P["alpha"][3], P["bravo"][3], P["vnet"][3], A6[13]]),
    Plan("b13_slow_spray", 113, 175,
         "slow password spraying from four addresses of one /24, ~1 guess per 3 s", bg_eps() + [
             Ep("slow-spray", "crack", SPRAY_ADDRS,
                "actors.py register with wrong passwords from 4 addresses, 2.7-3.3 s apart",
                "52 guesses: %d passwords tried over %d subscribers in turn, the 4 addresses "
                "taking turns (~12 s apart each); REGISTER/401, REGISTER with Authorization/401"
                % (2, len(SPRAY_USERS))),
         ], b13),
    Plan("b14_bruteforce_success", 114, 45, "REGISTER digest guessing that succeeds on the 4th guess",
         bg_eps() + [
             Ep("lucky-crack", "crack", [A[18]], "actors.py bruteforce interval 4.1-5.3 s",
                "one Call-ID; REGISTER/401 then %d guesses 4-5 s apart, the last succeeds (200)"
                % len(SUCCESS_GUESSES)),
         ], b14),
    Plan("b15_trunk_ports", 115, 50,
         "two trunks behind one address told apart by port; one spoofs the other's numbers", [
             Ep("golf-calls", "legit", ["%s:5270" % lab.TRUNK4],
                "actors.py call (trunk golf, %s:5270)" % lab.TRUNK4,
                "calls with P-Asserted-Identity in golf's own range +34911230000-9999, answered"),
             Ep("hotel-cli-spoof", "cli-spoof", ["%s:5280" % lab.TRUNK4],
                "actors.py call (trunk hotel, %s:5280, same address as golf)" % lab.TRUNK4,
                "every call asserts a number hotel may not: golf's range (2 of 3) or a home "
                "number (1 of 3); hotel may only assert +39061230000-+39061239999"),
             bg_eps()[1],
         ], b15),
    Plan("b16_v6_shared_address", 116, 40,
         "IPv6 only, every peer on one address: two partners by port and an INVITE flood", [
             Ep("india-calls", "legit", ["[%s]:5270" % lab.SHARED6],
                "actors.py call (partner india, [%s]:5270)" % lab.SHARED6,
                "calls in india's own range, answered"),
             Ep("juliet-keepalive-calls", "legit", ["[%s]:5280" % lab.SHARED6],
                "actors.py options every 4 s and calls (partner juliet, [%s]:5280)" % lab.SHARED6,
                "OPTIONS answered 200; calls in juliet's own range, answered"),
             Ep("invite-flood-shared-v6", "flood", ["[%s]:5291" % lab.SHARED6],
                "sipp [::1]:5260 invite_flood.xml -r 120 -m 400 -i %s -p 5291" % lab.SHARED6,
                "400 INVITEs in ~3.5 s to the unassigned block from the partners' address "
                "(a port no partner claims), each 404 then ACK"),
         ], b16, needs_v6=[lab.SHARED6]),
    Plan("b17_slow_spray_six", 117, 185,
         "slow password spraying from six addresses of another /24, ~1 guess per 3.6 s",
         bg_eps() + [
             Ep("slow-spray-six", "crack", SPRAY2_ADDRS,
                "actors.py register with a wrong password from 6 addresses picked at random, "
                "3.0-4.2 s apart",
                "%d guesses: one password over %d subscribers, each guess from one of 6 addresses "
                "of 127.166.5.0/24 picked at random, a fresh Call-ID each; REGISTER/401, "
                "REGISTER with Authorization/401" % (len(SPRAY2_USERS), len(SPRAY2_USERS))),
         ], b17),
    Plan("b18_bruteforce_success_v6_tcp", 118, 40,
         "REGISTER digest guessing over IPv6 TCP that succeeds on the 8th guess", bg_eps() + [
             Ep("tcp-crack-v6", "crack", [lab.ATTACKERS6[20]],
                "actors.py bruteforce over TCP from [%s]:5277, interval 1.2-2.0 s"
                % lab.ATTACKERS6[20],
                "one TCP connection, one Call-ID; REGISTER/401 then %d guesses 1.2-2.0 s apart, "
                "the last succeeds (200)" % len(SUCCESS2_GUESSES)),
         ], b18, needs_v6=[lab.ATTACKERS6[20]]),
    Plan("b19_partner_interleaved", 119, 60,
         "IRSF calls from partner alpha between its normal calls; svmap from bravo's address", [
             Ep("irsf-alpha", "irsf", [P["alpha"][2]],
                "actors.py call (alpha, called numbers in high-risk ranges)",
                "9 answered calls to +882/+53/+881/+252 spread between alpha's normal calls, "
                "same address and port", rule=("called_highrisk",)),
             bg_eps()[0],
             Ep("svmap-from-bravo", "scan", ["%s:5279" % P["bravo"][2]],
                "svmap -p5260-5262 127.0.0.9-127.0.0.11 -b %s -P 5279 -t 0.08" % P["bravo"][2],
                "OPTIONS sweep of 3 addresses x 3 ports from partner bravo's address (another "
                "port) while its keepalives go on"),
             bg_eps()[1], bg_eps()[2],
         ], b19),
    Plan("b20_partner_flood", 120, 45,
         "INVITE flood from transit carrier delta's own socket between its normal calls", bg_eps() + [
             Ep("invite-flood-delta", "flood", [P["delta"][2]],
                "actors.py call x240 from delta, ~100/s, to the unassigned block",
                "240 INVITEs in ~2.4 s from 127.0.0.131:5270 to +447700880000.. (unassigned), "
                "each 404 then ACK, while delta's normal calls go on", rule=("called_prefix",
                                                                            lab.UNASSIGNED_PREFIX)),
             Ep("delta-transit", "legit", [P["delta"][2]], "actors.py call (transit carrier delta)",
                "10 transit calls to home numbers, answered"),
         ], b20),
    Plan("b21_partner_slow_flood", 121, 50,
         "slower, longer INVITE flood from carrier echo's own socket between its normal calls",
         bg_eps() + [
             Ep("invite-flood-echo", "flood", [P["echo"][2]],
                "actors.py call x300 from echo, ~25/s, to other +44 numbers",
                "300 INVITEs in ~12 s from 127.0.0.141:5270 to %sxxxx (not ours), each 404 "
                "then ACK, while echo's normal calls go on" % WRONG44_PREFIX,
                rule=("called_prefix", WRONG44_PREFIX)),
             Ep("echo-calls", "legit", [P["echo"][2]], "actors.py call (international carrier echo)",
                "8 calls from distinct +22507 numbers to home, answered"),
         ], b21),
    Plan("b22_partner_busy_ramp", 122, 40,
         "a partner's legitimate busy-hour ramp to ~26 calls/s that must not trip", bg_eps() + [
             Ep("delta-busy-ramp", "legit", [P["delta"][2]],
                "actors.py call (delta, ~1 to ~26 calls/s over 15 s, held 5 s)",
                "transit calls to +34/+39 (200 after 0.8-1.6 s) and home numbers (180, 200), "
                "about 1 in 7 to other +44 numbers (404); talk 0.5-1.5 s"),
         ], b22),
    Plan("b23_wangiri_cross_carrier", 123, 50,
         "Wangiri campaign over two transit carriers, A-numbers rotating over one range",
         bg_eps() + [
             Ep("wangiri-campaign", "wangiri", [P["echo"][2], P["delta"][2]],
                "actors.py call with cancel 1-2.6 s after 180, carriers echo and delta at random",
                "34 calls from +2250712xxxxxx (24 distinct 1000-blocks, 1-2 calls each), "
                "distinct home callees, every call CANCELled before answer"),
         ], b23),
    Plan("b24_irsf_walk", 124, 55,
         "IRSF number walk through transit carrier delta next to alpha's legitimate calls "
         "to the same countries", bg_eps() + [
             Ep("irsf-walk-delta", "irsf", [P["delta"][2]],
                "actors.py call (delta, rotating A, B walking %sxxx)" % WALK_RANGE,
                "14 answered calls to consecutive (80%%) or next-but-one numbers of %s000-999, "
                "0.8-1.6 s apart, each from another +49 number" % WALK_RANGE),
         ], b24),
    Plan("b25_partner_rights", 125, 40,
         "enterprise PBX registering its trunk AoR, partner MESSAGE by agreement, "
         "a PBX registering others' AoRs", bg_eps() + [
             Ep("kilo-pbx-register", "legit", [lab.RIGHT["kilo"][1]],
                "actors.py register %s (PBX kilo, digest) and calls" % lab.PBX_PILOT,
                "REGISTER/401, REGISTER with Authorization/200 for the PBX's own AoR twice; "
                "calls to +34, answered"),
             Ep("lima-message", "legit", [lab.RIGHT["lima"][1]],
                "actors.py message (hub lima, MESSAGE by agreement)",
                "9 MESSAGEs to home numbers, 5 of them to one subscriber, answered 200"),
             Ep("mike-reg-hijack", "reg-hijack", [lab.RIGHT["mike"][1]],
                "actors.py register of 3 home subscribers' AoRs (PBX mike, no register rights)",
                "REGISTER/401, REGISTER with wrong credentials/401 for AoRs not mike's"),
         ], b25),
]
PLAN = {p.name: p for p in PLANS}
