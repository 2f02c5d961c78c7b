//! 1C's order statuses mapped to ours: our own codes (what `mode=query` sends in
//! `Статуса заказа ИД`), 1C-Bitrix letters, and the names 1C:УТ and Bitrix write.

/// What 1C's status asks of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mapped {
    To(&'static str),
    /// A status that moves nothing (`Открыт`, `Не согласован`).
    Neutral,
    Unknown,
}

fn by_code(code: &str) -> Option<&'static str> {
    let ours = crate::ordering::history::STATUSES.iter().find(|s| **s == code).copied();
    ours.or(match code {
        "N" => Some("new"),
        "P" => Some("confirmed"),
        "F" => Some("completed"),
        _ => None,
    })
}

fn by_name(name: &str) -> Mapped {
    let n = name.trim().to_lowercase().replace('ё', "е");
    let to = match n.as_str() {
        "открыт" | "не согласован" | "ожидает согласования" | "на согласовании" => {
            return Mapped::Neutral
        }
        "новый" | "принят" | "принят, ожидается оплата" => "new",
        "подтвержден"
        | "согласован"
        | "к обеспечению"
        | "к выполнению"
        | "в работе"
        | "в резерве"
        | "оплачен, формируется к отправке" => "confirmed",
        "в производстве" => "in_production",
        "собран" | "к отгрузке" => "assembled",
        "отгружен" => "shipped",
        "доставлен" => "delivered",
        "выполнен" | "закрыт" | "завершен" => "completed",
        "отменен" | "отменён" => "cancelled",
        _ => return Mapped::Unknown,
    };
    Mapped::To(to)
}

/// Our status from `Статуса заказа ИД` (first) and `Статус заказа` (`[N] Принят` or a name).
pub fn from_1c(id: Option<&str>, name: Option<&str>) -> Mapped {
    if let Some(to) = id.map(str::trim).and_then(by_code) {
        return Mapped::To(to);
    }
    let Some(name) = name.map(str::trim) else { return Mapped::Neutral };
    if let Some(rest) = name.strip_prefix('[') {
        if let Some((code, text)) = rest.split_once(']') {
            return match by_code(code.trim()) {
                Some(to) => Mapped::To(to),
                None => by_name(text),
            };
        }
    }
    by_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_letters_and_names() {
        assert_eq!(from_1c(Some("shipped"), None), Mapped::To("shipped"));
        assert_eq!(from_1c(Some("N"), Some("[N] Принят")), Mapped::To("new"));
        assert_eq!(from_1c(None, Some("[F] Доставлен")), Mapped::To("completed"));
        assert_eq!(from_1c(None, Some("[confirmed] подтверждён")), Mapped::To("confirmed"));
        assert_eq!(from_1c(None, Some("Открыт")), Mapped::Neutral);
        assert_eq!(from_1c(None, Some("Закрыт")), Mapped::To("completed"));
        assert_eq!(from_1c(None, None), Mapped::Neutral);
        assert_eq!(from_1c(Some("X"), Some("Что-то своё")), Mapped::Unknown);
    }
}
