#!/usr/bin/env python3
"""Writes a CommerceML 2.07 package for the 1C import benchmark (`tradeport bench exchange`):
import.xml (classifier with nested groups and properties, catalog of N products) and
offers.xml (5 price types, 10 warehouses, one offer per product with 5 prices and stock in
every warehouse). Python 3 standard library only; deterministic for a given N and seed.

    python3 scripts/gen_commerceml.py [--products 50000] [--out DIR] [--seed 1]
"""
import argparse
import os
import random
import uuid
from xml.sax.saxutils import escape

NS = uuid.UUID("6f1c1c6e-1c00-4c00-8c00-000000000000")


def gid(kind, n):
    return str(uuid.uuid5(NS, f"{kind}-{n}"))


NOUNS = ["Профиль", "Саморез", "Кирпич", "Плитка", "Краска", "Кабель", "Труба", "Уголок", "Лист", "Герметик"]
ADJS = ["оконный", "белый", "красный", "усиленный", "облегчённый", "медный", "стальной", "гибкий", "влагостойкий"]
UNITS = [("796", "шт"), ("166", "кг"), ("006", "м"), ("055", "м2"), ("778", "упак")]
BRANDS = [f"Бренд {i}" for i in range(1, 21)]
PRICE_TYPES = ["Розничная", "Оптовая", "Дилерская", "Крупный опт", "Закупочная"]


def write_import(path, n, rnd):
    groups = []
    with open(path, "w", encoding="utf-8") as f:
        w = f.write
        w('<?xml version="1.0" encoding="UTF-8"?>\n')
        w('<КоммерческаяИнформация xmlns="urn:1C.ru:commerceml_2" ВерсияСхемы="2.07" ДатаФормирования="2026-01-01T00:00:00">\n')
        w(f"<Классификатор><Ид>{gid('cls', 0)}</Ид><Наименование>Классификатор (Основной каталог товаров)</Наименование>\n<Группы>\n")
        for top in range(10):
            w(f"<Группа><Ид>{gid('group', top)}</Ид><Наименование>{NOUNS[top]}ы</Наименование><Группы>\n")
            for sub in range(5):
                g = gid("group", f"{top}-{sub}")
                groups.append(g)
                w(f"<Группа><Ид>{g}</Ид><Наименование>{NOUNS[top]}ы, серия {sub + 1}</Наименование></Группа>\n")
            w("</Группы></Группа>\n")
        w("</Группы>\n<Свойства>\n")
        w(f"<Свойство><Ид>{gid('prop', 'brand')}</Ид><Наименование>Производитель</Наименование><ТипЗначений>Справочник</ТипЗначений><ВариантыЗначений>\n")
        for i, b in enumerate(BRANDS):
            w(f"<Справочник><ИдЗначения>{gid('brand', i)}</ИдЗначения><Значение>{escape(b)}</Значение></Справочник>\n")
        w("</ВариантыЗначений></Свойство>\n")
        w(f"<Свойство><Ид>{gid('prop', 'weight')}</Ид><Наименование>Вес, кг</Наименование><ТипЗначений>Число</ТипЗначений></Свойство>\n")
        w(f"<Свойство><Ид>{gid('prop', 'color')}</Ид><Наименование>Цвет</Наименование><ТипЗначений>Строка</ТипЗначений></Свойство>\n")
        w("</Свойства></Классификатор>\n")
        w(f'<Каталог СодержитТолькоИзменения="false"><Ид>{gid("catalog", 0)}</Ид><ИдКлассификатора>{gid("cls", 0)}</ИдКлассификатора>'
          "<Наименование>Основной каталог товаров</Наименование>\n<Товары>\n")
        for i in range(n):
            code, short = UNITS[i % len(UNITS)]
            name = f"{NOUNS[i % 10]} {ADJS[(i // 10) % len(ADJS)]} {i // 90 + 1} мм"
            w(f"<Товар><Ид>{gid('product', i)}</Ид><Артикул>ART-{i:06d}</Артикул><Наименование>{name}</Наименование>"
              f'<БазоваяЕдиница Код="{code}">{short}</БазоваяЕдиница><Группы><Ид>{groups[i % len(groups)]}</Ид></Группы>'
              f"<Описание>Описание товара {i}: {name}, для строительства и ремонта.</Описание>"
              "<ЗначенияСвойств>"
              f"<ЗначенияСвойства><Ид>{gid('prop', 'brand')}</Ид><Значение>{gid('brand', i % len(BRANDS))}</Значение></ЗначенияСвойства>"
              f"<ЗначенияСвойства><Ид>{gid('prop', 'weight')}</Ид><Значение>{rnd.randint(1, 500) / 10}</Значение></ЗначенияСвойства>"
              f"<ЗначенияСвойства><Ид>{gid('prop', 'color')}</Ид><Значение>{ADJS[i % 3]}</Значение></ЗначенияСвойства>"
              "</ЗначенияСвойств>"
              "<СтавкиНалогов><СтавкаНалога><Наименование>НДС</Наименование><Ставка>20</Ставка></СтавкаНалога></СтавкиНалогов>"
              "<ЗначенияРеквизитов><ЗначениеРеквизита><Наименование>ТипНоменклатуры</Наименование><Значение>Товар</Значение></ЗначениеРеквизита></ЗначенияРеквизитов>"
              "</Товар>\n")
        w("</Товары></Каталог>\n</КоммерческаяИнформация>\n")


def write_offers(path, n, rnd):
    with open(path, "w", encoding="utf-8") as f:
        w = f.write
        w('<?xml version="1.0" encoding="UTF-8"?>\n')
        w('<КоммерческаяИнформация xmlns="urn:1C.ru:commerceml_2" ВерсияСхемы="2.07" ДатаФормирования="2026-01-01T00:00:00">\n')
        w(f'<ПакетПредложений СодержитТолькоИзменения="false"><Ид>{gid("catalog", 0)}#</Ид><Наименование>Пакет предложений</Наименование>'
          f"<ИдКаталога>{gid('catalog', 0)}</ИдКаталога><ИдКлассификатора>{gid('cls', 0)}</ИдКлассификатора>\n<ТипыЦен>\n")
        for i, t in enumerate(PRICE_TYPES):
            w(f"<ТипЦены><Ид>{gid('price', i)}</Ид><Наименование>{t}</Наименование><Валюта>RUB</Валюта>"
              "<Налог><Наименование>НДС</Наименование><УчтеноВСумме>true</УчтеноВСумме></Налог></ТипЦены>\n")
        w("</ТипыЦен>\n<Склады>\n")
        for i in range(10):
            w(f"<Склад><Ид>{gid('warehouse', i)}</Ид><Наименование>Склад {i + 1}</Наименование></Склад>\n")
        w("</Склады>\n<Предложения>\n")
        for i in range(n):
            base = rnd.randint(100, 100000) / 10
            prices = "".join(
                f"<Цена><ИдТипаЦены>{gid('price', k)}</ИдТипаЦены><ЦенаЗаЕдиницу>{base * (1 - k * 0.05):.2f}</ЦенаЗаЕдиницу>"
                "<Валюта>RUB</Валюта><Коэффициент>1</Коэффициент></Цена>"
                for k in range(len(PRICE_TYPES)))
            qty = [rnd.randint(0, 200) for _ in range(10)]
            stock = "".join(f'<Склад ИдСклада="{gid("warehouse", k)}" КоличествоНаСкладе="{q}"/>' for k, q in enumerate(qty))
            w(f"<Предложение><Ид>{gid('product', i)}</Ид><Артикул>ART-{i:06d}</Артикул><Наименование>{NOUNS[i % 10]}</Наименование>"
              f"<Цены>{prices}</Цены><Количество>{sum(qty)}</Количество>{stock}</Предложение>\n")
        w("</Предложения></ПакетПредложений>\n</КоммерческаяИнформация>\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--products", type=int, default=50000)
    ap.add_argument("--out", default="target/commerceml-bench")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    rnd = random.Random(a.seed)
    write_import(os.path.join(a.out, "import.xml"), a.products, rnd)
    write_offers(os.path.join(a.out, "offers.xml"), a.products, rnd)
    for name in ("import.xml", "offers.xml"):
        p = os.path.join(a.out, name)
        print(f"{p}: {os.path.getsize(p)} bytes")


if __name__ == "__main__":
    main()
