//! Identifiers. Each record kind has its own newtype so that a user id can
//! never be passed where an incident id is expected. New identifiers are
//! UUID v7, made by the application layer (making one reads the clock).

id_type!(
    /// A person or a system identity (interface, instrument) that can act.
    UserId
);
id_type!(
    /// A department (blood sciences, cardiac physiology, ...): the owner of work records.
    DepartmentId
);
id_type!(
    /// An incident or nonconformity.
    IncidentId
);
id_type!(
    /// A notification in someone's inbox.
    NotificationId
);
id_type!(
    /// A job in the database-backed job queue.
    JobId
);
id_type!(
    /// An API token for a machine client.
    ApiTokenId
);
id_type!(
    /// An audit event.
    AuditEventId
);
id_type!(
    /// A patient (organisation-wide, not owned by a department).
    PatientId
);
