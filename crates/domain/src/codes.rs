//! Stable snake_case codes for the domain's vocabularies, as stored and exchanged.

/// Gives a fieldless enum `ALL`, `code()` and `parse()` over a fixed table of snake_case codes.
macro_rules! snake_case_codes {
    ($ty:ty, $field:literal, { $($variant:ident => $code:literal),+ $(,)? }) => {
        impl $ty {
            /// Every value, in declaration order.
            pub const ALL: &'static [$ty] = &[$(<$ty>::$variant),+];

            /// The stable snake_case code stored and exchanged for this value.
            pub fn code(self) -> &'static str {
                match self { $(<$ty>::$variant => $code),+ }
            }

            /// Parses a stable code.
            pub fn parse(code: &str) -> Result<Self, DomainError> {
                match code {
                    $($code => Ok(<$ty>::$variant),)+
                    _ => Err(DomainError::invalid($field, format!(
                        "unknown value `{code}`; expected one of: {}",
                        [$($code),+].join(", ")
                    ))),
                }
            }
        }
    };
}
