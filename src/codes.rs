//! Random codes people read and type: an alphabet without letters and digits that read alike
//! (0/O, 1/I/L), each character equally likely, from the system's random source. Booking codes
//! and hold ids (`records/codes.rs`) and ticket codes are drawn here.

/// Booking codes avoid letters and digits that read alike (0/O, 1/I/L).
pub(crate) const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

/// `len` characters of [`CODE_ALPHABET`], each equally likely. The bytes come from the system's
/// random source a block at a time: one system call per few dozen codes instead of one per code
/// (a hold cost one, about 2 % of its time).
pub(crate) fn random_code(len: usize) -> String {
    use std::cell::RefCell;
    // The largest multiple of the alphabet's size that fits a byte: bytes above it are skipped,
    // so no character comes up more often than another.
    const FAIR: usize = 256 - 256 % CODE_ALPHABET.len();
    thread_local! {
        static POOL: RefCell<([u8; 256], usize)> = const { RefCell::new(([0; 256], 256)) };
    }
    POOL.with_borrow_mut(|(bytes, used)| {
        let mut code = String::with_capacity(len);
        while code.len() < len {
            if *used == bytes.len() {
                getrandom::fill(bytes).expect("the system's random source failed");
                *used = 0;
            }
            let b = bytes[*used] as usize;
            *used += 1;
            if b < FAIR {
                code.push(CODE_ALPHABET[b % CODE_ALPHABET.len()] as char);
            }
        }
        code
    })
}

/// How many characters a ticket's code has: 18 of 31 letters are 89 bits of chance, so a code
/// cannot be guessed or worked out from another (a booking's code is 6 letters and says nothing
/// of its tickets').
pub const TICKET_CODE_LEN: usize = 18;

/// A new ticket code.
pub(crate) fn new_ticket_code() -> String {
    random_code(TICKET_CODE_LEN)
}
