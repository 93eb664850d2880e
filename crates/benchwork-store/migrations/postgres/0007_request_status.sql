-- Request status history (issue 3 item 8). lab_request.status is derived
-- from the request's lines (benchwork_domain::request_status) and
-- recomputed in the transaction of every change that can move it; each
-- change is a row here. from_status is NULL for the booking.

CREATE TABLE request_status_event (
    id UUID PRIMARY KEY,
    request_id UUID NOT NULL REFERENCES lab_request (id),
    from_status TEXT,
    to_status TEXT NOT NULL,
    by_user UUID NOT NULL REFERENCES app_user (id),
    at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX request_status_event_request ON request_status_event (request_id, at);
CREATE INDEX lab_request_department_status ON lab_request (department_id, status);

-- Requests booked before this migration start their history at booking.
INSERT INTO request_status_event (id, request_id, from_status, to_status, by_user, at, created_at)
SELECT gen_random_uuid(), id, NULL, 'registered', created_by, created_at, created_at FROM lab_request;
