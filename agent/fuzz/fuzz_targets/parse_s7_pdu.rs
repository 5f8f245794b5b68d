//! Fuzzes `kordon_agent::applayer::s7comm::parser::parse_s7_pdu` on one S7 PDU, naming its
//! parts as the EVE record does.
#![no_main]

use kordon_agent::applayer::s7comm::parser::{Param, parse_s7_pdu, pi_service_label};
use kordon_agent::applayer::s7comm::state::class_of;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(pdu) = parse_s7_pdu(data) {
        let _ = (pdu.rosctr.name(), class_of(&pdu));
        match pdu.param {
            Param::Function {
                function,
                pi_service,
            } => {
                let _ = function.name();
                if let Some(pi) = pi_service {
                    let _ = pi_service_label(pi);
                }
            }
            Param::Userdata(u) => {
                let _ = (u.function_name(), u.subfunction_name(), u.is_continuation());
            }
            Param::Unparsed(_) | Param::None => {}
        }
    }
});
