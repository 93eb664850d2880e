-- Foundation: departments, staff, sessions, API tokens, the audit trail,
-- jobs, notifications, counters and incidents.
-- Instants are BIGINT microseconds since the Unix epoch, UTC, on both engines
-- (docs/design/2026-11-25-storage.md).

CREATE TABLE department (
    id UUID PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE app_user (
    id UUID PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('person', 'system')),
    password_hash TEXT,
    must_change_password BIGINT NOT NULL DEFAULT 0,
    disabled_at BIGINT,
    password_changed_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE user_role (
    user_id UUID NOT NULL REFERENCES app_user (id),
    role TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, role)
);

CREATE TABLE user_department (
    user_id UUID NOT NULL REFERENCES app_user (id),
    department_id UUID NOT NULL REFERENCES department (id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, department_id)
);

CREATE TABLE web_session (
    token_hash BYTEA PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES app_user (id),
    csrf_token TEXT NOT NULL,
    source_address TEXT,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX web_session_user ON web_session (user_id);

CREATE TABLE sign_in_failure (
    id UUID PRIMARY KEY,
    username TEXT NOT NULL,
    source_address TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX sign_in_failure_username ON sign_in_failure (username, created_at);
CREATE INDEX sign_in_failure_source ON sign_in_failure (source_address, created_at);

CREATE TABLE api_token (
    id UUID PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES app_user (id),
    token_hash BYTEA NOT NULL UNIQUE,
    label TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);

CREATE TABLE audit_event (
    id UUID PRIMARY KEY,
    seq BIGINT UNIQUE,
    prev_hash BYTEA,
    hash BYTEA,
    sealed_at BIGINT,
    recorded BIGINT NOT NULL,
    action TEXT NOT NULL,
    event_type TEXT NOT NULL,
    outcome BIGINT NOT NULL,
    actor_id UUID,
    actor_name TEXT NOT NULL,
    actor_roles TEXT NOT NULL,
    source_address TEXT,
    entity_type TEXT,
    entity_id TEXT,
    patient_id UUID,
    department_id UUID,
    detail TEXT,
    before_json TEXT,
    after_json TEXT
);
CREATE INDEX audit_event_unsealed ON audit_event (recorded, id) WHERE seq IS NULL;
CREATE INDEX audit_event_recorded ON audit_event (recorded);
CREATE INDEX audit_event_actor ON audit_event (actor_id, recorded);
CREATE INDEX audit_event_patient ON audit_event (patient_id, recorded);
CREATE INDEX audit_event_entity ON audit_event (entity_type, entity_id, recorded);

-- The audit table is append-only. The one change allowed is sealing: giving
-- an unsealed event its sequence number and hashes, once. These triggers are
-- defence in depth; the hash chain and the head kept outside the database
-- are what detect tampering by someone able to drop them.
CREATE FUNCTION audit_event_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit events cannot be deleted';
    END IF;
    IF OLD.seq IS NOT NULL
        OR NEW.id IS DISTINCT FROM OLD.id
        OR NEW.recorded IS DISTINCT FROM OLD.recorded
        OR NEW.action IS DISTINCT FROM OLD.action
        OR NEW.event_type IS DISTINCT FROM OLD.event_type
        OR NEW.outcome IS DISTINCT FROM OLD.outcome
        OR NEW.actor_id IS DISTINCT FROM OLD.actor_id
        OR NEW.actor_name IS DISTINCT FROM OLD.actor_name
        OR NEW.actor_roles IS DISTINCT FROM OLD.actor_roles
        OR NEW.source_address IS DISTINCT FROM OLD.source_address
        OR NEW.entity_type IS DISTINCT FROM OLD.entity_type
        OR NEW.entity_id IS DISTINCT FROM OLD.entity_id
        OR NEW.patient_id IS DISTINCT FROM OLD.patient_id
        OR NEW.department_id IS DISTINCT FROM OLD.department_id
        OR NEW.detail IS DISTINCT FROM OLD.detail
        OR NEW.before_json IS DISTINCT FROM OLD.before_json
        OR NEW.after_json IS DISTINCT FROM OLD.after_json THEN
        RAISE EXCEPTION 'audit events cannot be changed';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_event_append_only
    BEFORE UPDATE OR DELETE ON audit_event
    FOR EACH ROW EXECUTE FUNCTION audit_event_guard();

-- Row triggers do not fire for TRUNCATE; refuse it separately.
CREATE FUNCTION audit_event_no_truncate() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events cannot be deleted';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_event_no_truncate
    BEFORE TRUNCATE ON audit_event
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_no_truncate();

CREATE TABLE job (
    id UUID PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    run_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    interval_secs BIGINT,
    dedupe_key TEXT UNIQUE,
    lease_owner TEXT,
    lease_token UUID,
    lease_until BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX job_due ON job (status, run_at);

CREATE TABLE notification (
    id UUID PRIMARY KEY,
    recipient_user_id UUID REFERENCES app_user (id),
    recipient_role TEXT,
    department_id UUID REFERENCES department (id),
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    link TEXT,
    created_at BIGINT NOT NULL,
    CHECK (recipient_user_id IS NOT NULL OR recipient_role IS NOT NULL)
);
CREATE INDEX notification_user ON notification (recipient_user_id, created_at);
CREATE INDEX notification_role ON notification (recipient_role, created_at);

CREATE TABLE notification_read (
    notification_id UUID NOT NULL REFERENCES notification (id),
    user_id UUID NOT NULL REFERENCES app_user (id),
    read_at BIGINT NOT NULL,
    PRIMARY KEY (notification_id, user_id)
);

CREATE TABLE counter (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);

CREATE TABLE incident (
    id UUID PRIMARY KEY,
    number BIGINT NOT NULL UNIQUE,
    department_id UUID NOT NULL REFERENCES department (id),
    kind TEXT NOT NULL,
    category TEXT NOT NULL,
    severity TEXT NOT NULL,
    status TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    outcome TEXT,
    raised_by UUID NOT NULL REFERENCES app_user (id),
    owner_id UUID REFERENCES app_user (id),
    closed_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX incident_department ON incident (department_id, status, created_at);

CREATE TABLE incident_link (
    incident_id UUID NOT NULL REFERENCES incident (id),
    record_type TEXT NOT NULL,
    record_id TEXT NOT NULL,
    label TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (incident_id, record_type, record_id)
);

-- The system identity: the actor of the operator's command line, of jobs
-- and of anything the system does by itself.
INSERT INTO app_user (id, username, display_name, kind, created_at, updated_at)
VALUES ('00000000-0000-0000-0000-000000000000', 'system', 'Benchwork system', 'system', 0, 0);
