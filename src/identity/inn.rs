//! Russian taxpayer numbers: INN (10 digits for organisations, 12 for individual
//! entrepreneurs, with check digits) and KPP (9 digits, organisations only).

const W10: [u32; 9] = [2, 4, 10, 3, 5, 9, 4, 6, 8];
const W11: [u32; 10] = [7, 2, 4, 10, 3, 5, 9, 4, 6, 8];
const W12: [u32; 11] = [3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8];

fn check_digit(digits: &[u32], weights: &[u32]) -> u32 {
    digits.iter().zip(weights).map(|(d, w)| d * w).sum::<u32>() % 11 % 10
}

/// Validates an INN; `Ok(true)` for an organisation (10 digits), `Ok(false)` for an
/// individual entrepreneur (12 digits).
pub fn check_inn(inn: &str) -> Result<bool, String> {
    if !inn.chars().all(|c| c.is_ascii_digit()) || !(inn.len() == 10 || inn.len() == 12) {
        return Err("INN must be 10 digits (organisation) or 12 digits (entrepreneur)".into());
    }
    let d: Vec<u32> = inn.chars().filter_map(|c| c.to_digit(10)).collect();
    let valid = if d.len() == 10 {
        check_digit(&d[..9], &W10) == d[9]
    } else {
        check_digit(&d[..10], &W11) == d[10] && check_digit(&d[..11], &W12) == d[11]
    };
    if valid {
        Ok(d.len() == 10)
    } else {
        Err("INN check digits do not match: please check the number".into())
    }
}

pub fn check_kpp(kpp: &str) -> Result<(), String> {
    if kpp.len() == 9 && kpp.chars().all(|c| c.is_ascii_digit()) {
        Ok(())
    } else {
        Err("KPP must be 9 digits".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_numbers_pass_and_typos_fail() {
        assert_eq!(check_inn("7707083893"), Ok(true));
        assert_eq!(check_inn("500100732259"), Ok(false));
        assert!(check_inn("7707083894").is_err(), "one digit off");
        assert!(check_inn("500100732258").is_err());
        assert!(check_inn("770708389").is_err());
        assert!(check_inn("77070838931").is_err());
        assert!(check_inn("77070838a3").is_err());
        assert!(check_kpp("773601001").is_ok());
        assert!(check_kpp("77360100").is_err());
        assert!(check_kpp("7736010011").is_err());
    }
}
