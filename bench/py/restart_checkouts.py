"""T11: PostgreSQL stopped (immediate) and started again while 20 clients place 200 orders.

Each client keeps a ledger: every order has its own Idempotency-Key and body, and the client
retries the same key and body until it gets an answer (201 or a 4xx), for at most 90 s.
Prints one JSON line with what the clients saw; the driver (bench/reliability_orders.sh)
checks the database against it. Standard library only.
"""
import json, random, subprocess, sys, threading, time, urllib.request, urllib.error

URL, TOKEN, SKU_FILE = sys.argv[1], sys.argv[2], sys.argv[3]
CLIENTS, PER_CLIENT = 20, 10
# Seconds each client waits between its orders (T11_PACE), so that the outage falls mid-run.
PACE = float(__import__("os").environ.get("T11_PACE", "0.3"))
skus = [s for s in open(SKU_FILE).read().split() if s]
ledger = {}          # key -> (status, number, attempts)
lock = threading.Lock()
done = {"n": 0}
outage = {"stopped_at": None, "started_at": None, "first_ok_after": None, "readyz": []}

def post(key, body):
    req = urllib.request.Request(URL + "/s/cat-main/api/v1/orders", data=body, method="POST",
        headers={"Content-Type": "application/json", "Authorization": "Bearer " + TOKEN, "Idempotency-Key": key})
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        try:
            return e.code, json.loads(e.read() or b"{}")
        except ValueError:
            return e.code, {}
    except Exception:
        return None, {}

def client(c):
    rnd = random.Random(c)
    for i in range(PER_CLIENT):
        key = f"t11-{c}-{i}-{rnd.randrange(10**9)}"
        lines = [{"sku": s, "qty": rnd.randint(1, 3)} for s in rnd.sample(skus, 3)]
        body = json.dumps({"lines": lines}).encode()
        attempts, deadline = 0, time.time() + 90
        while time.time() < deadline:
            attempts += 1
            status, answer = post(key, body)
            if status is not None and (status == 201 or 400 <= status < 500):
                with lock:
                    ledger[key] = (status, answer.get("number"), attempts)
                    done["n"] += 1
                    if status == 201 and outage["started_at"] and not outage["first_ok_after"]:
                        outage["first_ok_after"] = time.time()
                break
            time.sleep(0.2)
        else:
            with lock:
                ledger[key] = (None, None, attempts)
        # A buyer's pace: without it the 200 checkouts are done before PostgreSQL has stopped.
        time.sleep(PACE)

def readyz_probe(stop):
    while not stop.is_set():
        try:
            with urllib.request.urlopen(URL + "/readyz", timeout=2) as r:
                ok = r.status == 200
        except Exception:
            ok = False
        outage["readyz"].append((time.time(), ok))
        time.sleep(0.2)

stop = threading.Event()
probe = threading.Thread(target=readyz_probe, args=(stop,)); probe.start()
threads = [threading.Thread(target=client, args=(c,)) for c in range(CLIENTS)]
for t in threads: t.start()
while done["n"] < CLIENTS * PER_CLIENT // 4:
    time.sleep(0.05)
outage["stop_requested_at"] = time.time()
subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", "15", "main", "stop", "-m", "immediate"], check=False)
# PostgreSQL is down once the stop command returns: /readyz must say so from here on.
outage["stopped_at"] = time.time()
time.sleep(5)
# From here PostgreSQL may be up before the start command returns.
outage["start_requested_at"] = time.time()
subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", "15", "main", "start"], check=False)
outage["started_at"] = time.time()
for t in threads: t.join()
time.sleep(3); stop.set(); probe.join()
during = [ok for (at, ok) in outage["readyz"] if outage["stopped_at"] + 0.5 < at < outage["start_requested_at"]]
after = [ok for (at, ok) in outage["readyz"] if at > outage["started_at"] + 2]
ok = {k: v for k, v in ledger.items() if v[0] == 201}
print(json.dumps({
    "figure": "t11_clients", "attempted": len(ledger), "created": len(ok),
    "refused_4xx": sum(1 for v in ledger.values() if v[0] is not None and v[0] != 201),
    "no_answer": sum(1 for v in ledger.values() if v[0] is None),
    "retried": sum(1 for v in ledger.values() if v[2] > 1),
    "numbers_distinct": len({v[1] for v in ok.values()}),
    "numbers": sorted(v[1] for v in ok.values() if v[1]),
    "readyz_false_during_outage": (not any(during)) if during else None,
    "readyz_true_after": all(after) if after else None,
    "outage_s": round(outage["started_at"] - outage["stop_requested_at"], 1),
    "stop_command_s": round(outage["stopped_at"] - outage["stop_requested_at"], 1),
    "readyz_samples_during_outage": len(during),
    "recovery_s": round(outage["first_ok_after"] - outage["started_at"], 2) if outage["first_ok_after"] else None,
}))
