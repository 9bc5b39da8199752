//! The customer: what a person typed, checked and normalised ([`CustomerInfo`]), their record
//! (`customers`), and who counts as the same person for the ticket limit ([`SamePerson`]).

use super::*;

/// Normalises what a customer or clerk typed; rejects what cannot be an email address.
pub fn normalize_email(raw: &str) -> Result<String> {
    let email = raw.trim().to_lowercase();
    let bad = || {
        Error::invalid(format!(
            "`{}` is not an email address (name@example.com)",
            raw.trim().chars().take(80).collect::<String>()
        ))
    };
    if email.len() > 254
        || email
            .chars()
            .any(|c| c.is_whitespace() || crate::text::is_hidden_or_control(c))
    {
        return Err(bad());
    }
    let (local, domain) = email.split_once('@').ok_or_else(bad)?;
    // What a relay can send: a plain-ASCII name part, and a domain with an ASCII form (IDNA:
    // `müller.at` goes out as `xn--mller-kva.at`).
    if !local.is_ascii() || idna::domain_to_ascii(domain).is_err() {
        return Err(bad());
    }
    if local.is_empty()
        || domain.contains('@')
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
        || email.contains(['<', '>', ',', ';', '"', '\\'])
    {
        return Err(bad());
    }
    Ok(email)
}

/// Normalises a phone number to its international form (E.164, `+436641234567`), the one
/// form it is stored, matched and sent in: `0664 1234567` at a venue in `country` AT, `+43 (0)
/// 664 1234567` and `0043 664 1234567` are all the same number (libphonenumber's rules,
/// through the `phonenumber` crate). Without a country, a number needs its `+` and code.
pub fn normalize_phone(raw: &str, country: Option<&str>) -> Result<String> {
    let t = raw.trim();
    let bad = || {
        Error::invalid(
            "a phone number is digits, with its country code (+43 660 1234567) or as dialled in the venue's country",
        )
    };
    if !t
        .chars()
        .all(|c| c.is_ascii_digit() || " +-()/.".contains(c))
        || t[1.min(t.len())..].contains('+')
        || t.chars().filter(char::is_ascii_digit).count() > 17
    {
        return Err(bad());
    }
    let region = country.and_then(|c| c.parse::<phonenumber::country::Id>().ok());
    if region.is_none() && !t.starts_with('+') && !t.starts_with("00") {
        return Err(Error::invalid(
            "give the number with its country code, e.g. +43 660 1234567",
        ));
    }
    let number = phonenumber::parse(region, t).map_err(|_| bad())?;
    if !phonenumber::is_valid(&number) {
        return Err(Error::invalid(format!(
            "{} is not a phone number there: check the digits",
            t.chars().take(24).collect::<String>()
        )));
    }
    Ok(number.format().mode(phonenumber::Mode::E164).to_string())
}

/// A name as a person gave it, without control characters (no CR/LF into email headers).
pub fn clean_name(raw: &str) -> Result<Option<String>> {
    let name: String = raw.trim().to_string();
    if name.chars().any(|c| c.is_control()) {
        return Err(Error::invalid(
            "a name cannot contain line breaks or control characters",
        ));
    }
    crate::text::check_line("the name", &name).map_err(Error::invalid)?;
    if name.chars().count() > 200 {
        return Err(Error::invalid("a name is at most 200 characters"));
    }
    Ok((!name.is_empty()).then_some(name))
}

impl CustomerInfo {
    /// The email as stored and sent to: `None` for a walk-up who gave none (an empty `email`).
    pub fn email_address(&self) -> Option<&str> {
        Some(self.email.as_str()).filter(|e| !e.trim().is_empty())
    }

    /// The details in the one form they are stored, matched and sent in: the email trimmed and
    /// in lower case, the name cleaned, the phone in international form (`country`, the
    /// venue's, decides a number given without a country code). Checked once; a hold keeps
    /// them, and they become the customer's record when the hold is paid.
    pub fn checked(&self, country: Option<&str>) -> Result<CustomerInfo> {
        Ok(CustomerInfo {
            email: match self.email.trim() {
                "" => String::new(),
                email => normalize_email(email)?,
            },
            name: match &self.name {
                Some(n) => clean_name(n)?,
                None => None,
            },
            phone: match self.phone.as_deref().filter(|p| !p.trim().is_empty()) {
                Some(p) => Some(normalize_phone(p, country)?),
                None => None,
            },
        })
    }
}

/// A recorded customer's details (for a hold in their name: a waiting-list offer).
pub(crate) fn recorded_customer(tx: &crate::store::Db, customer_id: i64) -> Result<CustomerInfo> {
    Ok(tx
        .prepare_cached("SELECT email, name, phone FROM customers WHERE id = ?1")?
        .query_row([customer_id], |r| {
            Ok(CustomerInfo {
                email: r.get::<Option<String>>(0)?.unwrap_or_default(),
                name: r.get(1)?,
                phone: r.get(2)?,
            })
        })?)
}

/// Finds or creates the customer by email, recording a name or phone given for the first time
/// or changed; returns the customer's id. A new customer takes one INSERT; a returning one is
/// written only when a detail changed (an upsert with RETURNING builds a temporary table).
pub(crate) fn record_customer(tx: &crate::store::Db, who: CustomerInfo) -> Result<i64> {
    let Some(email) = who.email_address().map(str::to_string) else {
        // A walk-up who gave no email: a customer of their own, never matched to another.
        let key = who.name.as_deref().map(crate::text::fold);
        return Ok(tx
            .prepare_cached(
                "INSERT INTO customers (email, name, phone, name_key) VALUES (NULL, ?1, ?2, ?3) RETURNING id",
            )?
            .query_row(params![who.name, who.phone, key], |r| r.get(0))?);
    };
    let CustomerInfo { name, phone, .. } = who;
    let key = name.as_deref().map(crate::text::fold);
    let inserted: Option<i64> = tx
        .prepare_cached(
            "INSERT INTO customers (email, name, phone, name_key) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (email) DO NOTHING RETURNING id",
        )?
        .query_row(params![email, name, phone, key], |r| r.get(0))
        .optional()?;
    if let Some(id) = inserted {
        return Ok(id);
    }
    let (id, old_name, old_phone): (i64, Option<String>, Option<String>) = tx
        .prepare_cached("SELECT id, name, phone FROM customers WHERE email = ?1")?
        .query_row([&email], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    let name = name.or(old_name.clone());
    let phone = phone.or(old_phone.clone());
    if name != old_name || phone != old_phone {
        let key = name.as_deref().map(crate::text::fold);
        tx.prepare_cached(
            "UPDATE customers SET name = ?2, phone = ?3, name_key = ?4 WHERE id = ?1",
        )?
        .execute(params![id, name, phone, key])?;
    }
    Ok(id)
}

/// Every customer who is the same person as `customer_id`: the same email, or the same phone
/// (for the waiting list, whose entries are customers').
pub(crate) fn same_person_ids(tx: &crate::store::Db, customer_id: i64) -> Result<Vec<i64>> {
    let phone: Option<String> = tx
        .prepare_cached("SELECT phone FROM customers WHERE id = ?1")?
        .query_row([customer_id], |r| r.get(0))
        .optional()?
        .flatten();
    let mut ids = vec![customer_id];
    if let Some(phone) = phone {
        let mut st = tx.prepare_cached("SELECT id FROM customers WHERE phone = ?1")?;
        for id in st.query_map([phone], |r| r.get::<i64>(0))? {
            let id = id?;
            if id != customer_id {
                ids.push(id);
            }
        }
    }
    Ok(ids)
}

/// Ids as a JSON array, for `IN (SELECT value FROM json_each(?))`: one statement, cached,
/// whatever the number of ids.
pub(crate) fn json_ids(ids: &[i64]) -> String {
    format!(
        "[{}]",
        ids.iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",")
    )
}

/// Who counts as the same person as a customer ([`CustomerInfo`]), for the ticket limit and
/// the one live hold per concert: the same email, or the same phone (the one given, else the
/// one their customer record has); a customer recorded with that phone is the same person
/// under another email.
pub(crate) struct SamePerson {
    pub(crate) emails: Vec<String>,
    pub(crate) phone: Option<String>,
}

impl SamePerson {
    pub(crate) fn of(tx: &crate::store::Db, who: &CustomerInfo) -> Result<SamePerson> {
        let phone = match (&who.phone, who.email_address()) {
            (Some(p), _) => Some(p.clone()),
            (None, Some(email)) => tx
                .prepare_cached("SELECT phone FROM customers WHERE email = ?1")?
                .query_row([email], |r| r.get::<Option<String>>(0))
                .optional()?
                .flatten(),
            // A walk-up who gave nothing is no one else: their limit is the sale's.
            (None, None) => None,
        };
        let mut emails: Vec<String> = who
            .email_address()
            .map(str::to_string)
            .into_iter()
            .collect();
        if let Some(phone) = &phone {
            let mut st = tx.prepare_cached(
                "SELECT email FROM customers WHERE phone = ?1 AND email IS NOT NULL",
            )?;
            for email in st.query_map([phone], |r| r.get::<String>(0))? {
                let email = email?;
                if !emails.contains(&email) {
                    emails.push(email);
                }
            }
        }
        Ok(SamePerson { emails, phone })
    }

    /// Whether a hold made with these details (as stored) is this person's.
    pub(crate) fn owns(&self, email: Option<&str>, phone: Option<&str>) -> bool {
        self.emails.iter().any(|e| Some(e.as_str()) == email)
            || self.phone.as_deref().is_some_and(|p| phone == Some(p))
    }
}

/// One of a person's holds on a concert, and how many seats it claims now (booked ones
/// included: a paid hold's claims are its booking's).
pub(crate) struct PersonHold {
    pub(crate) id: String,
    pub(crate) kind: crate::states::HoldKind,
    pub(crate) state: HoldState,
    pub(crate) created_at: i64,
    pub(crate) claims: i64,
}

/// The person's holds on a concert, in any state (the waiting list's pool aside), found by each
/// of their emails and by their phone: an indexed look-up per identity, almost always one or
/// two, each reading the person's few holds rather than the concert's many.
pub(crate) fn person_holds(
    tx: &crate::store::Db,
    concert_id: i64,
    person: &SamePerson,
) -> Result<Vec<PersonHold>> {
    macro_rules! by {
        ($column:literal $(, $e:ident)?) => {
            concat!(
                "SELECT id, kind, state, created_at, (SELECT count(*) FROM ",
                held_by!($($e)?),
                ") FROM holds h WHERE ",
                $column,
                " = ?1 AND concert_id = ?2 AND kind != 'pool'"
            )
        };
    }
    let map = |r: &crate::store::sql::Row<'_>| {
        Ok(PersonHold {
            id: r.get(0)?,
            kind: r.get(1)?,
            state: r.get(2)?,
            created_at: r.get(3)?,
            claims: r.get(4)?,
        })
    };
    let mut out: Vec<PersonHold> = Vec::new();
    let mut add = |found: crate::store::sql::Result<PersonHold>| -> Result<()> {
        let found = found?;
        if !out.iter().any(|h| h.id == found.id) {
            out.push(found);
        }
        Ok(())
    };
    let mut st = tx.prepare_cached(tx.pick(by!("email"), by!("email", pg)))?;
    for email in &person.emails {
        for found in st.query_map(params![email, concert_id], map)? {
            add(found)?;
        }
    }
    if let Some(phone) = &person.phone {
        let mut st = tx.prepare_cached(tx.pick(by!("phone"), by!("phone", pg)))?;
        for found in st.query_map(params![phone, concert_id], map)? {
            add(found)?;
        }
    }
    Ok(out)
}
