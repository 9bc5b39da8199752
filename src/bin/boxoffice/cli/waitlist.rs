//! `waitlist join|list|leave`: the waiting list of a sold-out concert.

use super::*;

/// `boxoffice waitlist`.
#[derive(Debug, clap::Args)]
pub(super) struct WaitlistArgs {
    #[command(subcommand)]
    pub(super) action: WaitlistAction,
}

pub(super) fn waitlist(cli: &Cli, args: &WaitlistArgs, out: &mut String) -> Result<(), Failure> {
    let WaitlistArgs { action } = args;
    let mut ctx = open_ctx(cli)?;
    match action {
        WaitlistAction::Join {
            concert,
            customer,
            name,
            phone,
            party,
            category,
            json,
        } => {
            let id = ctx.store.resolve_concert(concert)?;
            let entry = ctx.store.join_waitlist(
                id,
                &CustomerInfo {
                    email: customer.clone().unwrap_or_default(),
                    name: name.clone(),
                    phone: phone.clone(),
                },
                *party,
                category.as_deref(),
            )?;
            show(out, *json, &entry, |out| {
                outln!(
                    out,
                    "{} is number {} on the waiting list (party of {})",
                    entry.customer,
                    entry.position.unwrap_or_default(),
                    entry.party
                );
                Ok(())
            })?;
        }
        WaitlistAction::List { concert, json } => {
            let id = ctx.store.resolve_concert(concert)?;
            let list = ctx.store.waitlist(id)?;
            show(out, *json, &list, |out| {
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|e| {
                        vec![
                            e.position.map(|p| p.to_string()).unwrap_or("-".into()),
                            e.customer.clone(),
                            e.party.to_string(),
                            e.state.to_string(),
                            e.offer.clone().unwrap_or_default(),
                            e.offer_expires_at
                                .map(|t| {
                                    t.with_timezone(&chrono::Local)
                                        .format("%a %H:%M")
                                        .to_string()
                                })
                                .unwrap_or_default(),
                        ]
                    })
                    .collect();
                print_table(
                    out,
                    &["POS", "CUSTOMER", "PARTY", "STATE", "OFFER", "PAY BY"],
                    &rows,
                );
                Ok(())
            })?;
        }
        WaitlistAction::Leave {
            concert,
            customer,
            json,
        } => {
            let id = ctx.store.resolve_concert(concert)?;
            let entry = ctx.store.leave_waitlist(id, customer)?;
            show(out, *json, &entry, |out| {
                outln!(out, "{} left the waiting list", entry.customer);
                Ok(())
            })?;
        }
    }
    Ok(())
}

#[derive(Debug, Subcommand)]
pub(super) enum WaitlistAction {
    /// Join the waiting list (the concert, or the category, must be sold out)
    Join {
        concert: String,
        /// The customer's email (the offer is sent there; or give --phone alone)
        #[arg(long, required_unless_present = "phone")]
        customer: Option<String>,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        phone: Option<String>,
        /// How many seats they want together (1 up to the ticket limit)
        #[arg(long)]
        party: i64,
        /// Wait for this seat category only
        #[arg(long)]
        category: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// The queue: positions, states and offer deadlines
    List {
        concert: String,
        #[arg(long)]
        json: bool,
    },
    /// Leave the waiting list (an open offer goes to the next person)
    Leave {
        concert: String,
        /// The customer's email, or the mobile number they joined with
        #[arg(long)]
        customer: String,
        #[arg(long)]
        json: bool,
    },
}
