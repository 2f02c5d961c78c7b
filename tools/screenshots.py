#!/usr/bin/env python3
"""Screenshots of the main pages at phone and desktop widths, in Russian and English.

Usage: python3 tools/screenshots.py [BASE_URL] [OUT_DIR]
Needs Debian's chromium and chromium-driver and `pip install selenium`; a running demo
(`cargo run -- demo`). Signs in to the operator console through the form, like a person.
"""
import os
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://localhost:8080"
OUT = sys.argv[2] if len(sys.argv) > 2 else "/tmp/shots"
os.makedirs(OUT, exist_ok=True)

PAGES = [
    ("landing", "/"),
    ("store-okna", "/s/okna-profi/"),
    ("store-textile", "/s/textile-hub/"),
    ("not-found", "/s/okna-profi/nope"),
    ("console-login", "/platform"),
]
CONSOLE = [
    ("console-tenants", "/platform"),
    ("console-new", "/platform/tenants/new"),
    ("console-edit", "/platform/tenants/okna-profi"),
    ("console-mail", "/platform/mail"),
]


def driver(width, height):
    opts = webdriver.ChromeOptions()
    for flag in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--window-size={width},{height}", "--hide-scrollbars"]:
        opts.add_argument(flag)
    opts.binary_location = "/usr/bin/chromium"
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)


def full_page(d, path):
    height = d.execute_script("return document.documentElement.scrollHeight")
    width = d.execute_script("return window.innerWidth")
    d.set_window_size(d.get_window_size()["width"], min(max(height + 120, 600), 4000))
    d.save_screenshot(path)
    return width


for label, (w, h) in {"phone": (390, 844), "desktop": (1280, 900)}.items():
    for lang in ["ru", "en"]:
        d = driver(w, h)
        try:
            d.get(f"{BASE}/lang/{lang}?next=/")
            for store in ["okna-profi", "textile-hub"]:
                d.get(f"{BASE}/s/{store}/lang/{lang}?next=/s/{store}/")
            for name, path in PAGES:
                d.set_window_size(w, h)
                d.get(BASE + path)
                full_page(d, f"{OUT}/{name}-{lang}-{label}.png")
            d.set_window_size(w, h)
            d.get(BASE + "/platform")
            d.find_element(By.NAME, "email").send_keys("operator@tradeport.local")
            d.find_element(By.NAME, "password").send_keys("operator-demo")
            d.find_element(By.CSS_SELECTOR, "form.form button").click()
            for name, path in CONSOLE:
                d.set_window_size(w, h)
                d.get(BASE + path)
                full_page(d, f"{OUT}/{name}-{lang}-{label}.png")
        finally:
            d.quit()
# Storefront flows: register a buyer through the form, then the supplier's back office.
import random
for label, (w, h) in {"phone": (390, 844), "desktop": (1280, 900)}.items():
    for lang in ["ru", "en"]:
        d = driver(w, h)
        try:
            d.get(f"{BASE}/s/textile-hub/lang/{lang}?next=/s/textile-hub/register")
            full_page(d, f"{OUT}/store-register-{lang}-{label}.png")
            d.set_window_size(w, h)
            digits = [random.randint(0, 9) for _ in range(9)]
            check = sum(d * w for d, w in zip(digits, [2, 4, 10, 3, 5, 9, 4, 6, 8])) % 11 % 10
            inn = "".join(map(str, digits + [check]))
            email = f"shot{random.randint(1, 10**9)}@buyer.demo"
            for name, value in [("name", "Мария Иванова"), ("email", email), ("password", "screenshot-pass-1"),
                                ("company_name", "ООО «Вектор»"), ("inn", inn), ("kpp", "773601001"),
                                ("address", "Москва, ул. Ленина, 1"), ("phone", "+7 495 000-00-00")]:
                d.find_element(By.NAME, name).send_keys(value)
            d.find_element(By.CSS_SELECTOR, "form#register button[type=submit]").click()
            full_page(d, f"{OUT}/store-cabinet-{lang}-{label}.png")
            d.set_window_size(w, h)
            d.find_element(By.CSS_SELECTOR, "form#logout button").click()
            d.get(f"{BASE}/s/textile-hub/login")
            full_page(d, f"{OUT}/store-login-{lang}-{label}.png")
            d.set_window_size(w, h)
            d.find_element(By.NAME, "email").send_keys("admin@textile-hub.demo")
            d.find_element(By.NAME, "password").send_keys("textile-demo-pass")
            d.find_element(By.CSS_SELECTOR, "form#login button").click()
            d.get(f"{BASE}/s/textile-hub/admin/customers")
            full_page(d, f"{OUT}/admin-customers-{lang}-{label}.png")
            d.set_window_size(w, h)
            d.get(f"{BASE}/s/textile-hub/admin/staff")
            full_page(d, f"{OUT}/admin-staff-{lang}-{label}.png")
        finally:
            d.quit()
print("screenshots in", OUT)
