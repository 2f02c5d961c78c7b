//! `tradeport bench catalog-seed`: the data of the catalog benchmarks (issue 4,
//! docs/BENCHMARKS.md "Catalog, pricing and search"). One big tenant (100,000 products by
//! default) and N small ones (2,000 each), with generated Russian product names, brands, a
//! `color` and a `country` list attribute, a `dealer` price group with its price list, stock,
//! and one buyer company in the `dealer` group in every tenant. Products go in through
//! `catalog::products::{parse_row, Refs, insert_many}` and `after_change` (the marketplace
//! listing and the search-index outbox), inside `db::in_tenant`, as an import would.
//!
//! The database must be named `tradeport_bench…` (default `tradeport_bench_catalog`); it is
//! dropped and created again. One JSON line on stdout with the timings and the logins.

use std::time::Instant;

use anyhow::{anyhow, bail, Context};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use secrecy::ExposeSecret;
use serde_json::json;

use super::operator::describe;
use crate::catalog::attributes::{self, NewAttribute};
use crate::catalog::categories::{self, NewCategory};
use crate::catalog::demo::{self, CatalogFile, DemoBuyer};
use crate::catalog::products::{self, Refs, Row};
use crate::config::Settings;
use crate::db::in_tenant;
use crate::db::migrate::migrate_platform;
use crate::db::schema_tenant::{price_groups, price_types};
use crate::error::AppError;
use crate::identity::accounts::{self, NewAccount};
use crate::platform::onboarding::{self, OnboardContext, OnboardRequest};

/// Every catalog bench tenant links to this admin (hashed once, as in `bench tenants`).
const ADMIN_EMAIL: &str = "bench-admin@catalog.bench";
const ADMIN_PASSWORD: &str = "bench-admin-password";
/// The buyer whose company is in price group `dealer` in every tenant.
pub const BUYER_EMAIL: &str = "dealer@catalog.bench";
pub const BUYER_PASSWORD: &str = "bench-dealer-password";
/// The big tenant and the prefix of the small ones (`cat-0001`…).
pub const BIG_SLUG: &str = "cat-main";
const SMALL_PREFIX: &str = "cat-";

pub struct SeedArgs {
    pub database: String,
    pub products: usize,
    pub tenants: usize,
    pub per_tenant: usize,
}

// ---------------------------------------------------------------------------------------
// The generated catalog

struct Leaf {
    parent: &'static str,
    code: &'static str,
    name: &'static str,
    sku: &'static str,
    nouns: &'static [&'static str],
    sizes: &'static [&'static str],
    /// Base price in roubles, before the per-product spread.
    price: u64,
}

const PARENTS: &[(&str, &str)] = &[
    ("profiles", "Профильные системы"),
    ("hardware", "Фурнитура"),
    ("glass", "Стекло и стеклопакеты"),
    ("sills", "Подоконники и отливы"),
    ("nets", "Сетки и солнцезащита"),
    ("consumables", "Монтажные материалы"),
];

const LEAVES: &[Leaf] = &[
    Leaf {
        parent: "profiles",
        code: "window-profiles",
        name: "Оконные профили",
        sku: "PRF",
        nouns: &["Профиль оконный", "Профиль рамный", "Профиль створочный", "Профиль балконный"],
        sizes: &["58 мм", "60 мм", "70 мм", "76 мм", "82 мм"],
        price: 950,
    },
    Leaf {
        parent: "profiles",
        code: "door-profiles",
        name: "Дверные профили",
        sku: "DPR",
        nouns: &["Профиль дверной", "Профиль порога", "Профиль дверной створки"],
        sizes: &["70 мм", "76 мм", "82 мм", "120 мм"],
        price: 1450,
    },
    Leaf {
        parent: "profiles",
        code: "reinforcement",
        name: "Армирование",
        sku: "ARM",
        nouns: &["Армирование стальное", "Усилитель оцинкованный", "Армирующий вкладыш"],
        sizes: &["1,2 мм", "1,5 мм", "2 мм", "3 мм"],
        price: 420,
    },
    Leaf {
        parent: "profiles",
        code: "glazing-beads",
        name: "Штапики",
        sku: "SHT",
        nouns: &["Штапик", "Штапик фигурный", "Штапик прямоугольный"],
        sizes: &["12 мм", "18 мм", "24 мм", "32 мм", "40 мм"],
        price: 160,
    },
    Leaf {
        parent: "profiles",
        code: "mullions",
        name: "Импосты и соединители",
        sku: "IMP",
        nouns: &["Импост", "Соединитель угловой", "Расширитель"],
        sizes: &["60 мм", "82 мм", "90 градусов", "135 градусов"],
        price: 780,
    },
    Leaf {
        parent: "hardware",
        code: "handles",
        name: "Оконные ручки",
        sku: "RUC",
        nouns: &["Ручка оконная", "Ручка с ключом", "Ручка балконная", "Ручка-кнопка"],
        sizes: &["35 мм", "40 мм", "45 мм"],
        price: 390,
    },
    Leaf {
        parent: "hardware",
        code: "hinges",
        name: "Петли",
        sku: "PET",
        nouns: &["Петля оконная", "Петля дверная", "Петля скрытая", "Ножницы поворотно-откидные"],
        sizes: &["до 80 кг", "до 120 кг", "до 160 кг"],
        price: 640,
    },
    Leaf {
        parent: "hardware",
        code: "locks",
        name: "Замки",
        sku: "ZAM",
        nouns: &["Замок врезной", "Замок многозапорный", "Цилиндр замка", "Защёлка"],
        sizes: &["25 мм", "35 мм", "45 мм", "55 мм"],
        price: 1900,
    },
    Leaf {
        parent: "hardware",
        code: "tilt-turn",
        name: "Поворотно-откидная фурнитура",
        sku: "POF",
        nouns: &["Комплект фурнитуры", "Привод поворотно-откидной", "Микропроветривание"],
        sizes: &["600 мм", "800 мм", "1000 мм", "1200 мм"],
        price: 2300,
    },
    Leaf {
        parent: "hardware",
        code: "gaskets",
        name: "Уплотнители",
        sku: "UPL",
        nouns: &["Уплотнитель оконный", "Уплотнитель притворный", "Уплотнитель стеклопакета"],
        sizes: &["бухта 100 м", "бухта 200 м", "бухта 300 м"],
        price: 2100,
    },
    Leaf {
        parent: "glass",
        code: "glass-units",
        name: "Стеклопакеты",
        sku: "STP",
        nouns: &["Стеклопакет однокамерный", "Стеклопакет двухкамерный", "Стеклопакет энергосберегающий"],
        sizes: &["24 мм", "32 мм", "36 мм", "40 мм", "44 мм"],
        price: 2600,
    },
    Leaf {
        parent: "glass",
        code: "tempered-glass",
        name: "Закалённое стекло",
        sku: "ZSK",
        nouns: &["Стекло закалённое", "Триплекс", "Стекло матовое"],
        sizes: &["4 мм", "6 мм", "8 мм", "10 мм"],
        price: 3100,
    },
    Leaf {
        parent: "glass",
        code: "films",
        name: "Плёнки",
        sku: "PLN",
        nouns: &["Плёнка солнцезащитная", "Плёнка защитная", "Плёнка тонировочная"],
        sizes: &["1 × 30 м", "1,5 × 30 м", "1,52 × 15 м"],
        price: 1200,
    },
    Leaf {
        parent: "glass",
        code: "spacers",
        name: "Дистанционные рамки",
        sku: "DRM",
        nouns: &["Рамка дистанционная", "Рамка тёплая", "Уголок для рамки"],
        sizes: &["8 мм", "12 мм", "16 мм", "20 мм"],
        price: 300,
    },
    Leaf {
        parent: "glass",
        code: "sealants",
        name: "Герметики",
        sku: "GRM",
        nouns: &["Герметик силиконовый", "Герметик бутиловый", "Герметик полисульфидный"],
        sizes: &["280 мл", "310 мл", "600 мл", "7 кг"],
        price: 450,
    },
    Leaf {
        parent: "sills",
        code: "pvc-sills",
        name: "Подоконники ПВХ",
        sku: "PDK",
        nouns: &["Подоконник ПВХ", "Подоконник матовый", "Подоконник глянцевый"],
        sizes: &["150 мм", "250 мм", "300 мм", "400 мм", "600 мм"],
        price: 880,
    },
    Leaf {
        parent: "sills",
        code: "stone-sills",
        name: "Подоконники из камня",
        sku: "PDS",
        nouns: &["Подоконник из искусственного камня", "Подоконник кварцевый", "Подоконник акриловый"],
        sizes: &["200 мм", "300 мм", "400 мм"],
        price: 4200,
    },
    Leaf {
        parent: "sills",
        code: "drip-caps",
        name: "Отливы",
        sku: "OTL",
        nouns: &["Отлив оцинкованный", "Отлив алюминиевый", "Отлив с полимерным покрытием"],
        sizes: &["100 мм", "150 мм", "200 мм", "250 мм"],
        price: 350,
    },
    Leaf {
        parent: "sills",
        code: "reveals",
        name: "Откосы",
        sku: "OTK",
        nouns: &["Откос сэндвич-панель", "Откос пластиковый", "Стартовый профиль откоса"],
        sizes: &["250 мм", "300 мм", "1500 × 3000 мм"],
        price: 690,
    },
    Leaf {
        parent: "sills",
        code: "end-caps",
        name: "Заглушки и комплектующие",
        sku: "ZGL",
        nouns: &["Заглушка торцевая", "Соединитель подоконника", "Угол подоконника"],
        sizes: &["малая", "средняя", "большая"],
        price: 90,
    },
    Leaf {
        parent: "nets",
        code: "frame-nets",
        name: "Рамочные сетки",
        sku: "MSR",
        nouns: &["Москитная сетка рамочная", "Сетка антикошка", "Сетка антипыль"],
        sizes: &["500 × 1000 мм", "600 × 1200 мм", "700 × 1400 мм"],
        price: 1100,
    },
    Leaf {
        parent: "nets",
        code: "roller-nets",
        name: "Рулонные сетки",
        sku: "MSU",
        nouns: &["Сетка рулонная", "Сетка роллетная", "Сетка раздвижная"],
        sizes: &["800 мм", "1000 мм", "1200 мм", "1400 мм"],
        price: 2700,
    },
    Leaf {
        parent: "nets",
        code: "pleated-nets",
        name: "Сетки плиссе",
        sku: "MSP",
        nouns: &["Сетка плиссе", "Дверь-плиссе", "Штора плиссе"],
        sizes: &["900 × 2100 мм", "1200 × 2200 мм", "1600 × 2300 мм"],
        price: 5400,
    },
    Leaf {
        parent: "nets",
        code: "blinds",
        name: "Жалюзи",
        sku: "JAL",
        nouns: &["Жалюзи горизонтальные", "Жалюзи вертикальные", "Рулонная штора"],
        sizes: &["400 мм", "600 мм", "800 мм", "1000 мм"],
        price: 1500,
    },
    Leaf {
        parent: "nets",
        code: "shutters",
        name: "Рольставни",
        sku: "ROL",
        nouns: &["Рольставни", "Роллета защитная", "Короб роллеты"],
        sizes: &["1000 × 1200 мм", "1500 × 1500 мм", "2000 × 2200 мм"],
        price: 9800,
    },
    Leaf {
        parent: "consumables",
        code: "foam",
        name: "Монтажная пена",
        sku: "PEN",
        nouns: &["Пена монтажная", "Пена профессиональная", "Очиститель пены"],
        sizes: &["500 мл", "750 мл", "1000 мл"],
        price: 520,
    },
    Leaf {
        parent: "consumables",
        code: "anchors",
        name: "Анкерные пластины",
        sku: "ANK",
        nouns: &["Анкерная пластина", "Анкер рамный", "Пластина поворотная"],
        sizes: &["150 мм", "200 мм", "250 мм"],
        price: 35,
    },
    Leaf {
        parent: "consumables",
        code: "screws",
        name: "Саморезы",
        sku: "SAM",
        nouns: &["Саморез по металлу", "Саморез с прессшайбой", "Шуруп оконный"],
        sizes: &["3,9 × 16", "4,2 × 25", "4,8 × 40", "5 × 60"],
        price: 240,
    },
    Leaf {
        parent: "consumables",
        code: "tapes",
        name: "Монтажные ленты",
        sku: "LNT",
        nouns: &["Лента ПСУЛ", "Лента пароизоляционная", "Лента диффузионная"],
        sizes: &["10 мм", "15 мм", "20 мм", "70 мм"],
        price: 380,
    },
    Leaf {
        parent: "consumables",
        code: "dowels",
        name: "Дюбели",
        sku: "DUB",
        nouns: &["Дюбель рамный", "Дюбель-гвоздь", "Дюбель фасадный"],
        sizes: &["8 × 80", "10 × 100", "10 × 132", "10 × 152"],
        price: 18,
    },
];

const BRANDS: &[(&str, &str)] = &[
    ("Rehau", "REH"),
    ("KBE", "KBE"),
    ("Veka", "VEK"),
    ("Salamander", "SAL"),
    ("Brusbox", "BRU"),
    ("Montblanc", "MON"),
    ("Deceuninck", "DEC"),
    ("Roto", "ROT"),
    ("Maco", "MAC"),
    ("Siegenia", "SIE"),
    ("Winkhaus", "WIN"),
    ("Vorne", "VOR"),
    ("Axor", "AXO"),
    ("Fornax", "FOR"),
    ("Hoppe", "HOP"),
    ("Soudal", "SOU"),
    ("Makroflex", "MAK"),
    ("Tytan", "TYT"),
    ("Penosil", "PNS"),
    ("Moeller", "MOE"),
    ("Danke", "DAN"),
    ("Crystallit", "CRY"),
    ("Estera", "EST"),
    ("Витраж", "VTR"),
    ("Профайн", "PRO"),
    ("СтройПласт", "STP"),
    ("Мастер Окон", "MOK"),
    ("Северное стекло", "SST"),
    ("Уральский профиль", "URP"),
    ("Кале", "KAL"),
];

const SERIES: &[&str] = &[
    "Blitz",
    "Delight",
    "Grazio",
    "Intelio",
    "Euro",
    "Elegant",
    "Classic",
    "Premium",
    "Лайт",
    "Стандарт",
    "Профи",
    "Оптима",
    "Норд",
    "Арктика",
    "Комфорт",
    "Эко",
    "Термо",
    "Титан",
    "Гранд",
    "Смарт",
];

const COLORS: &[&str] =
    &["белый", "коричневый", "антрацит", "золотой дуб", "махагон", "серый", "чёрный", "бежевый", "орех", "серебро"];

const COUNTRIES: &[&str] = &["Россия", "Германия", "Польша", "Турция", "Италия", "Китай", "Беларусь"];

const FEATURES: &[&str] = &[
    "Устойчив к ультрафиолету и перепадам температур",
    "Подходит для жилых и офисных помещений",
    "Соответствует ГОСТ 30674-99",
    "Морозостойкость до минус 60 °C",
    "Лёгкий монтаж без специального инструмента",
    "Повышенная шумоизоляция",
    "Для пластиковых и алюминиевых конструкций",
    "Рекомендуется для остекления балконов и лоджий",
];

/// The codes of the leaf categories every bench store has.
pub fn leaf_codes() -> Vec<&'static str> {
    LEAVES.iter().map(|l| l.code).collect()
}

/// SplitMix64: a deterministic stream per (tenant seed, product number).
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn pick<T: Copy>(list: &[T], r: u64) -> T {
    list[(r % list.len() as u64) as usize]
}

fn money(cents: u64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// Product number `i` of a tenant: spread over all leaf categories in turn.
fn product_row(seed: u64, i: usize) -> Row {
    let leaf = &LEAVES[i % LEAVES.len()];
    let r = |k: u64| mix(seed ^ mix((i as u64) << 8 | k));
    let noun = pick(leaf.nouns, r(1));
    let (brand, brand_code) = pick(BRANDS, r(2));
    let series = pick(SERIES, r(3));
    let size = pick(leaf.sizes, r(4));
    let color = pick(COLORS, r(5));
    let country = pick(COUNTRIES, r(6));
    let feature = pick(FEATURES, r(7));
    let base_cents = leaf.price * 100 * (60 + r(8) % 140) / 100;
    let dealer_cents = base_cents * 85 / 100;
    let mut row = Row::new();
    row.insert("sku".into(), format!("{}-{}-{:06}", leaf.sku, brand_code, i + 1));
    row.insert("name".into(), format!("{noun} {brand} {series} {size}, {color}"));
    row.insert(
        "description".into(),
        format!(
            "<p>{noun} {brand} серии «{series}». {feature}. Цвет — {color}, типоразмер {size}. \
             Производство: {country}. Гарантия производителя {} лет.</p>",
            2 + r(9) % 9
        ),
    );
    row.insert("brand".into(), brand.into());
    row.insert("category".into(), leaf.code.into());
    row.insert("price".into(), money(base_cents));
    row.insert("price:dealer".into(), money(dealer_cents));
    row.insert("attr:color".into(), color.into());
    row.insert("attr:country".into(), country.into());
    let h = r(10);
    if h % 30 == 0 {
        row.insert("status".into(), "upcoming".into());
        row.insert("available_from".into(), "2027-03-01".into());
    } else if h % 9 != 0 {
        row.insert("stock:main".into(), (h % 240 + 1).to_string());
    }
    row
}

/// Categories, attributes, the `dealer` price group, `count` products and the dealer buyer,
/// inside the tenant's transaction. Returns the number of products.
fn seed_tenant(conn: &mut PgConnection, tenant_id: i64, seed: u64, count: usize) -> Result<usize, AppError> {
    for (code, name) in PARENTS {
        categories::create(
            conn,
            NewCategory { code: (*code).into(), name: (*name).into(), name_en: None, parent: None, position: 0 },
        )?;
    }
    for (i, l) in LEAVES.iter().enumerate() {
        categories::create(
            conn,
            NewCategory {
                code: l.code.into(),
                name: l.name.into(),
                name_en: None,
                parent: Some(l.parent.into()),
                position: i as i32,
            },
        )?;
    }
    for (code, name, options) in [("color", "Цвет", COLORS), ("country", "Страна производства", COUNTRIES)]
    {
        attributes::create(
            conn,
            NewAttribute {
                code: code.into(),
                name: name.into(),
                name_en: None,
                kind: "list".into(),
                unit: String::new(),
                options: options.iter().map(|s| s.to_string()).collect(),
                filterable: true,
            },
        )?;
    }
    diesel::insert_into(price_types::table)
        .values((price_types::code.eq("dealer"), price_types::name.eq("Дилерская")))
        .execute(conn)?;
    diesel::insert_into(price_groups::table)
        .values((
            price_groups::code.eq("dealer"),
            price_groups::name.eq("Дилеры"),
            price_groups::price_type.eq("dealer"),
            price_groups::discount_percent.eq(rust_decimal::Decimal::new(2, 0)),
        ))
        .execute(conn)?;
    let refs = Refs::load(conn)?;
    let mut drafts = Vec::with_capacity(count);
    for i in 0..count {
        let row = product_row(seed, i);
        drafts.push(
            products::parse_row(&row, &refs)
                .map_err(|f| AppError::Internal(anyhow!("generated product {} is invalid: {f:?}", row["sku"])))?,
        );
    }
    let list: Vec<&products::Draft> = drafts.iter().collect();
    let ids = products::insert_many(conn, &list)?;
    products::after_change(conn, tenant_id, &ids)?;
    let buyers = CatalogFile {
        categories: Vec::new(),
        attributes: Vec::new(),
        warehouses: Vec::new(),
        price_groups: Vec::new(),
        family: Vec::new(),
        demo_buyer: vec![DemoBuyer {
            email: BUYER_EMAIL.into(),
            password: BUYER_PASSWORD.into(),
            name: "Дмитрий Дилеров".into(),
            company: "ООО «Окна Бенча»".into(),
            inn: "7736207543".into(),
            kpp: Some("773601001".into()),
            price_group: Some("dealer".into()),
        }],
    };
    demo::seed_buyers(conn, &buyers).map_err(AppError::Internal)?;
    Ok(ids.len())
}

// ---------------------------------------------------------------------------------------
// The database

/// `(server url with /postgres, url of NAME)`; refuses names other than `tradeport_bench…`.
fn urls(settings: &Settings, name: &str) -> anyhow::Result<(String, String)> {
    let ok = name.starts_with("tradeport_bench")
        && name.len() <= 63
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !ok {
        bail!("bench database names start with tradeport_bench and use a-z, 0-9 and _ (got {name:?})");
    }
    let url = settings.database.url.expose_secret();
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let (server, _) = base
        .rsplit_once('/')
        .filter(|(s, _)| s.contains("://") && !s.ends_with('/'))
        .ok_or_else(|| anyhow!("DATABASE_URL must name a database"))?;
    Ok((format!("{server}/postgres{query}"), format!("{server}/{name}{query}")))
}

pub fn seed(settings: &Settings, args: SeedArgs) -> anyhow::Result<()> {
    let (admin_url, url) = urls(settings, &args.database)?;
    let started = Instant::now();
    {
        let mut admin =
            PgConnection::establish(&admin_url).map_err(|e| anyhow!("cannot connect to {admin_url}: {e}"))?;
        for sql in [
            format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", args.database),
            format!("CREATE DATABASE \"{}\"", args.database),
        ] {
            admin.batch_execute(&sql).with_context(|| format!("cannot recreate database {}", args.database))?;
        }
    }
    let mut conn = PgConnection::establish(&url).map_err(|e| anyhow!("cannot connect to the bench database: {e}"))?;
    migrate_platform(&mut conn).map_err(|e| anyhow!("{e}"))?;
    accounts::create(
        &mut conn,
        NewAccount { email: ADMIN_EMAIL, name: "Bench admin", password: Some(ADMIN_PASSWORD), is_operator: false },
    )
    .map_err(|e| anyhow!("cannot create the bench admin: {}", describe(e)))?;
    let platform_url = settings.platform_url();
    let ctx = OnboardContext { platform_url: &platform_url, actor_account_id: None, fail_at: None };

    let mut onboard_s = 0.0;
    let mut slugs = vec![(BIG_SLUG.to_string(), args.products, 1u64)];
    for i in 1..=args.tenants {
        slugs.push((format!("{SMALL_PREFIX}{i:04}"), args.per_tenant, 1000 + i as u64));
    }
    let mut big_s = 0.0;
    let mut small_s = Vec::new();
    let mut total_products = 0;
    for (n, (slug, count, seed)) in slugs.iter().enumerate() {
        let t = Instant::now();
        let req = OnboardRequest {
            slug: slug.clone(),
            name: if n == 0 {
                "Каталог бенча".into()
            } else {
                format!("Поставщик бенча {n}")
            },
            admin_email: ADMIN_EMAIL.into(),
            ..Default::default()
        };
        let tenant = onboarding::onboard(&mut conn, &req, None, &ctx)
            .map_err(|e| anyhow!("cannot onboard {slug}: {}", describe(e)))?;
        onboard_s += t.elapsed().as_secs_f64();
        let t = Instant::now();
        let made = in_tenant(&mut conn, &tenant.schema, |c| seed_tenant(c, tenant.id, *seed, *count))
            .map_err(|e| anyhow!("cannot seed {slug}: {}", describe(e)))?;
        total_products += made;
        let s = t.elapsed().as_secs_f64();
        if n == 0 {
            big_s = s;
            eprintln!("bench: {slug}: {made} products in {s:.1} s");
        } else {
            small_s.push(s);
            if n % 10 == 0 {
                eprintln!("bench: {n} small tenants seeded ({:.1} s so far)", started.elapsed().as_secs_f64());
            }
        }
    }
    // As autovacuum would do soon after a load; the plans below depend on it.
    let t = Instant::now();
    conn.batch_execute("ANALYZE").context("ANALYZE failed")?;
    let analyze_s = t.elapsed().as_secs_f64();
    let r3 = |x: f64| (x * 1000.0).round() / 1000.0;
    println!(
        "{}",
        json!({
            "figure": "catalog_seed",
            "database": args.database,
            "big_tenant": BIG_SLUG,
            "big_products": args.products,
            "small_tenants": args.tenants,
            "small_prefix": SMALL_PREFIX,
            "per_tenant": args.per_tenant,
            "products_total": total_products,
            "categories": LEAVES.iter().map(|l| l.code).collect::<Vec<_>>(),
            "buyer_email": BUYER_EMAIL,
            "buyer_password": BUYER_PASSWORD,
            "price_group": "dealer",
            "onboard_s": r3(onboard_s),
            "big_seed_s": r3(big_s),
            "small_seed_s_total": r3(small_s.iter().sum()),
            "small_seed_s_mean": r3(if small_s.is_empty() { 0.0 } else { small_s.iter().sum::<f64>() / small_s.len() as f64 }),
            "analyze_s": r3(analyze_s),
            "total_s": r3(started.elapsed().as_secs_f64()),
        })
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_rows_are_deterministic_with_unique_skus() {
        let a: Vec<Row> = (0..5000).map(|i| product_row(1, i)).collect();
        let b: Vec<Row> = (0..5000).map(|i| product_row(1, i)).collect();
        assert_eq!(a, b);
        let mut skus: Vec<_> = a.iter().map(|r| r["sku"].clone()).collect();
        skus.sort();
        skus.dedup();
        assert_eq!(skus.len(), 5000);
        assert!(a.iter().all(|r| products::valid_sku(&r["sku"])));
    }
}
