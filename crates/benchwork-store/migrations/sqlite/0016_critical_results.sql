-- Critical-result communication tasks (issue 6 items 2-6; see
-- docs/design/2026-12-06-critical-results.md). A task opens when a result
-- with a critical flag is technically verified, in the same transaction;
-- it closes with a successful read-back communication or a senior
-- decision, or is cancelled when the result is withdrawn or recalled.
-- escalation_level is the state the escalation jobs advance with a
-- conditional UPDATE (... WHERE escalation_level = n), so each step fires
-- once even with several app servers.
CREATE TABLE critical_task (
    id BLOB PRIMARY KEY,
    result_id BLOB NOT NULL REFERENCES result (id),
    request_id BLOB NOT NULL REFERENCES lab_request (id),
    department_id BLOB NOT NULL REFERENCES department (id),
    patient_id BLOB NOT NULL REFERENCES patient (id),
    result_version INTEGER NOT NULL,
    code TEXT NOT NULL,
    value_text TEXT NOT NULL,
    unit TEXT,
    flag TEXT NOT NULL,
    -- Coded category (NULL = the default, urgent: 60 minutes).
    category TEXT,
    opened_at INTEGER NOT NULL,
    deadline_at INTEGER NOT NULL,
    -- open, closed or cancelled.
    status TEXT NOT NULL CHECK (status IN ('open', 'closed', 'cancelled')),
    escalation_level INTEGER NOT NULL DEFAULT 0,
    handler_id BLOB REFERENCES app_user (id),
    handler_since INTEGER,
    -- read-back, senior-decision or cancelled.
    closed_how TEXT CHECK (closed_how IN ('read-back', 'senior-decision', 'cancelled')),
    closed_reason TEXT,
    closed_by BLOB REFERENCES app_user (id),
    closed_at INTEGER,
    -- When the communication happened (the successful attempt's time).
    communicated_at INTEGER,
    updated_at INTEGER NOT NULL,
    CHECK ((status = 'open') = (closed_at IS NULL))
);
CREATE UNIQUE INDEX critical_task_one_open ON critical_task (result_id) WHERE status = 'open';
CREATE INDEX critical_task_department ON critical_task (department_id, status, deadline_at);

CREATE TABLE critical_attempt (
    id BLOB PRIMARY KEY,
    task_id BLOB NOT NULL REFERENCES critical_task (id),
    attempted_at INTEGER NOT NULL,
    recipient_name TEXT NOT NULL,
    recipient_role TEXT NOT NULL,
    recipient_location TEXT NOT NULL,
    -- A telephone number or 'in person'.
    contact TEXT NOT NULL,
    -- successful, no-answer, wrong-number, left-message, engaged.
    outcome TEXT NOT NULL,
    read_back INTEGER NOT NULL CHECK (read_back IN (0, 1)),
    note TEXT NOT NULL,
    recorded_by BLOB NOT NULL REFERENCES app_user (id),
    recorded_at INTEGER NOT NULL
);
CREATE INDEX critical_attempt_task ON critical_attempt (task_id, attempted_at);

-- The escalation chain per department: step `level` fires `after_minutes`
-- after the task's deadline and notifies `roles` (space-separated role
-- codes) of the department; a step with raises_incident = 1 also raises an
-- incident. Defaults seeded for every department (to be confirmed locally).
CREATE TABLE critical_escalation_step (
    department_id BLOB NOT NULL REFERENCES department (id),
    level INTEGER NOT NULL CHECK (level >= 1),
    after_minutes INTEGER NOT NULL CHECK (after_minutes >= 0),
    roles TEXT NOT NULL,
    raises_incident INTEGER NOT NULL CHECK (raises_incident IN (0, 1)),
    PRIMARY KEY (department_id, level)
);
INSERT INTO critical_escalation_step (department_id, level, after_minutes, roles, raises_incident)
SELECT id, 1, 0, 'practitioner', 0 FROM department;
INSERT INTO critical_escalation_step (department_id, level, after_minutes, roles, raises_incident)
SELECT id, 2, 30, 'clinical-scientist consultant', 0 FROM department;
INSERT INTO critical_escalation_step (department_id, level, after_minutes, roles, raises_incident)
SELECT id, 3, 60, 'consultant quality-manager', 1 FROM department;
