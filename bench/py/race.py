"""T8: ROUNDS rounds of CLIENTS concurrent orders of one unit of SKU (stock reset to STOCK by the
driver before each round through the staff API), started together at a barrier. Prints one
JSON line per round and a summary. Standard library only.
Usage: race.py URL SLUG BUYER_TOKEN STAFF_TOKEN SKU STOCK CLIENTS ROUNDS"""
import json, sys, threading, time, urllib.request, urllib.error

URL, SLUG, TOKEN, STAFF, SKU = sys.argv[1:6]
STOCK, CLIENTS, ROUNDS = int(sys.argv[6]), int(sys.argv[7]), int(sys.argv[8])
API = f"{URL}/s/{SLUG}/api/v1"
RUN = int(time.time())  # keys of earlier runs would answer with their old orders

def call(method, path, token, body, key=None):
    headers = {"Content-Type": "application/json", "Authorization": "Bearer " + token}
    if key:
        headers["Idempotency-Key"] = key
    req = urllib.request.Request(API + path, data=json.dumps(body).encode(), method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, {}
    except Exception:
        return None, {}

def stock():
    req = urllib.request.Request(f"{API}/admin/products/{SKU}", headers={"Authorization": "Bearer " + STAFF})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())["stock_available"]

total = {"accepted": 0, "refused": 0, "other": 0, "negative_or_wrong_stock": 0}
for rnd in range(ROUNDS):
    call("PUT", f"/admin/products/{SKU}/stock", STAFF, [{"warehouse": "main", "quantity": str(STOCK)}])
    barrier = threading.Barrier(CLIENTS)
    codes = [None] * CLIENTS
    retried = [0] * CLIENTS
    def client(i):
        barrier.wait()
        # A client retries an unanswered or 503 request with the same key, as T11's do.
        for _ in range(60):
            code = call("POST", "/orders", TOKEN, {"lines": [{"sku": SKU, "qty": 1}]}, key=f"t8-{RUN}-{rnd}-{i}")[0]
            if code is not None and code != 503:
                break
            retried[i] += 1
        codes[i] = code
    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for t in threads: t.start()
    for t in threads: t.join()
    ok, short = codes.count(201), codes.count(409)
    left = stock()
    total["accepted"] += ok
    total["refused"] += short
    total["other"] += CLIENTS - ok - short
    total["retried"] = total.get("retried", 0) + sum(retried)
    if left != "0" or ok != STOCK:
        total["negative_or_wrong_stock"] += 1
    print(json.dumps({"round": rnd, "accepted": ok, "refused": short, "stock_left": left, "retried": sum(retried)}), flush=True)
print(json.dumps({"figure": "t8_summary", "rounds": ROUNDS, "clients": CLIENTS, "stock": STOCK, **total}))
