//! One module per screen: each draws its part of the app state.

pub mod bookings;
pub mod checkout;
pub mod concerts;
pub mod confirmation;
pub mod sales;
pub mod seatmap;
pub mod waitlist;
