//! Typed identifiers, so a program id can never be passed where a bulletin id is expected.

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// The store's identifier of a bulletin.
    BulletinId
);
id_type!(
    /// The store's identifier of a program.
    ProgramId
);
id_type!(
    /// The store's identifier of a partner.
    PartnerId
);
id_type!(
    /// The store's identifier of an indicator.
    IndicatorId
);
id_type!(
    /// The store's identifier of an observation.
    ObservationId
);
