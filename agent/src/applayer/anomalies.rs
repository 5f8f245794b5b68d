//! A bit set of parse anomalies with stable names, shared by the parsers that collect several
//! anomalies per message before reporting them through [`super::AppSink::anomaly`].

/// Declares `pub struct $name(pub u16)` with one named bit constant per anomaly, `contains`,
/// `insert` and `names()` (the stable snake_case names reported and counted).
#[macro_export]
macro_rules! anomaly_bits {
    (
        $(#[$outer:meta])*
        $name:ident {
            $( $(#[$doc:meta])* $bit:ident = $shift:literal => $text:literal, )+
        }
    ) => {
        $(#[$outer])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub struct $name(pub u16);

        impl $name {
            $( $(#[$doc])* pub const $bit: $name = $name(1 << $shift); )+

            const NAMES: &'static [($name, &'static str)] = &[ $( ($name::$bit, $text), )+ ];

            /// Whether every bit of `other` is set.
            pub fn contains(self, other: $name) -> bool {
                self.0 & other.0 == other.0
            }

            /// Sets the bits of `other`.
            pub fn insert(&mut self, other: $name) {
                self.0 |= other.0;
            }

            /// Stable snake_case names of the bits set.
            pub fn names(self) -> impl Iterator<Item = &'static str> {
                $name::NAMES
                    .iter()
                    .filter(move |(bit, _)| self.contains(*bit))
                    .map(|(_, name)| *name)
            }
        }
    };
}
