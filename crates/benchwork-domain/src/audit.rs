//! The audit trail: who did what to which record, when and from where, as a
//! SHA-256 hash chain in one total order.
//!
//! Fields follow FHIR R4 `AuditEvent` (action, recorded, outcome, agent,
//! source, entity) so that events can be exported as such.
//!
//! Lifecycle: an [`AuditEvent`] is written in the same transaction as the
//! change it describes (or, for reads, by a group-committing writer before the
//! page is answered). A sealer later gives each committed event the next
//! sequence number and its chain hash, making it a [`SealedEvent`]. The chain
//! hash covers the sequence number, the previous hash and every field of the
//! event, so editing, deleting, inserting or reordering a sealed row breaks
//! the chain at that row; [`ChainVerifier`] names the first such row. A head
//! ([`ChainHead`]) kept outside the database also catches a rewrite that
//! re-hashes everything after the edited row, and truncation of the tail.

use jiff::Timestamp;
use sha2::{Digest, Sha256};

use crate::ids::{AuditEventId, DepartmentId, PatientId, UserId};

/// What kind of act an event records (FHIR `AuditEvent.action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    /// Create.
    Create,
    /// Read, view or print.
    Read,
    /// Update.
    Update,
    /// Delete.
    Delete,
    /// Execute: sign-in, sign-out, sign-off, a job.
    Execute,
}

impl AuditAction {
    /// The FHIR code: `C`, `R`, `U`, `D` or `E`.
    pub fn code(self) -> &'static str {
        match self {
            AuditAction::Create => "C",
            AuditAction::Read => "R",
            AuditAction::Update => "U",
            AuditAction::Delete => "D",
            AuditAction::Execute => "E",
        }
    }

    /// Parses a FHIR code.
    pub fn parse(code: &str) -> Option<AuditAction> {
        Some(match code {
            "C" => AuditAction::Create,
            "R" => AuditAction::Read,
            "U" => AuditAction::Update,
            "D" => AuditAction::Delete,
            "E" => AuditAction::Execute,
            _ => return None,
        })
    }
}

/// Whether the act succeeded (FHIR `AuditEvent.outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditOutcome {
    /// `0`: success.
    Success,
    /// `4`: minor failure, e.g. a refused sign-in or a refused permission.
    MinorFailure,
    /// `8`: serious failure.
    SeriousFailure,
    /// `12`: major failure.
    MajorFailure,
}

impl AuditOutcome {
    /// The FHIR code.
    pub fn code(self) -> i16 {
        match self {
            AuditOutcome::Success => 0,
            AuditOutcome::MinorFailure => 4,
            AuditOutcome::SeriousFailure => 8,
            AuditOutcome::MajorFailure => 12,
        }
    }

    /// Parses a FHIR code.
    pub fn parse(code: i16) -> Option<AuditOutcome> {
        Some(match code {
            0 => AuditOutcome::Success,
            4 => AuditOutcome::MinorFailure,
            8 => AuditOutcome::SeriousFailure,
            12 => AuditOutcome::MajorFailure,
            _ => return None,
        })
    }
}

/// One audited act. Every field is part of the chain hash.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    /// Unique id of the event.
    pub id: AuditEventId,
    /// When it happened, truncated to microseconds (FHIR `recorded`).
    pub recorded: Timestamp,
    /// Create, read, update, delete or execute.
    pub action: AuditAction,
    /// What happened, as a dotted code: `user.create`, `session.sign-in`,
    /// `incident.update` (FHIR `type`/`subtype`).
    pub event_type: String,
    /// Success or failure.
    pub outcome: AuditOutcome,
    /// Who acted (FHIR `agent.who`); `None` for an unknown person, such as a
    /// failed sign-in with a username that does not exist.
    pub actor_id: Option<UserId>,
    /// The actor's username, or what an unknown person typed.
    pub actor_name: String,
    /// The role codes the actor held at the time, comma-separated
    /// (FHIR `agent.role`).
    pub actor_roles: String,
    /// The network address the act came from (FHIR `agent.network`).
    pub source_address: Option<String>,
    /// The kind of record acted on: `User`, `Incident`, `Patient` (FHIR `entity.what`).
    pub entity_type: Option<String>,
    /// The id of the record acted on.
    pub entity_id: Option<String>,
    /// The patient the record belongs to, when there is one.
    pub patient_id: Option<PatientId>,
    /// The department that owns the record, when there is one.
    pub department_id: Option<DepartmentId>,
    /// A human-readable description (FHIR `outcomeDesc` / `entity.description`).
    pub detail: Option<String>,
    /// The record before a change, as JSON text exactly as stored.
    pub before: Option<String>,
    /// The record after a change, as JSON text exactly as stored.
    pub after: Option<String>,
}

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// The hash that precedes the first event.
pub const GENESIS_HASH: Hash = [0; 32];

/// Domain separation for version 1 of the canonical encoding.
const HASH_CONTEXT: &[u8] = b"benchwork-audit-v1";

/// An event after sealing: its place in the chain and its hash.
#[derive(Debug, Clone, PartialEq)]
pub struct SealedEvent {
    /// Position in the chain, from 1 with no gaps.
    pub seq: u64,
    /// The hash of the event at `seq - 1` ([`GENESIS_HASH`] for the first).
    pub prev_hash: Hash,
    /// [`chain_hash`] of this event.
    pub hash: Hash,
    /// The event itself.
    pub event: AuditEvent,
}

fn put_bytes(hasher: &mut Sha256, bytes: &[u8]) {
    // A length prefix makes the encoding unambiguous: moving characters from
    // one field to the next changes the hash.
    hasher.update((bytes.len() as u32).to_be_bytes());
    hasher.update(bytes);
}

fn put_optional(hasher: &mut Sha256, bytes: Option<&[u8]>) {
    match bytes {
        Some(bytes) => put_bytes(hasher, bytes),
        None => hasher.update(u32::MAX.to_be_bytes()),
    }
}

/// An event's fields as borrowed bytes and text, in the form they are
/// stored: ids as their 16 bytes, `recorded` as microseconds, the action as
/// its code. Verification reads rows into this without allocating.
#[derive(Debug, Clone, Copy)]
pub struct EventFields<'a> {
    /// The event id's 16 bytes.
    pub id: &'a [u8],
    /// Microseconds since the Unix epoch.
    pub recorded_micros: i64,
    /// The action code (`C`, `R`, `U`, `D`, `E`).
    pub action: &'a str,
    /// The event type.
    pub event_type: &'a str,
    /// The outcome code.
    pub outcome: i16,
    /// The actor's id bytes.
    pub actor_id: Option<&'a [u8]>,
    /// The actor's name.
    pub actor_name: &'a str,
    /// The actor's role codes.
    pub actor_roles: &'a str,
    /// Network address.
    pub source_address: Option<&'a str>,
    /// Record type.
    pub entity_type: Option<&'a str>,
    /// Record id.
    pub entity_id: Option<&'a str>,
    /// Patient id bytes.
    pub patient_id: Option<&'a [u8]>,
    /// Department id bytes.
    pub department_id: Option<&'a [u8]>,
    /// Description.
    pub detail: Option<&'a str>,
    /// Before JSON.
    pub before: Option<&'a str>,
    /// After JSON.
    pub after: Option<&'a str>,
}

impl AuditEvent {
    /// This event's fields, borrowed, for hashing.
    pub fn fields(&self) -> EventFields<'_> {
        EventFields {
            id: self.id.0.as_bytes(),
            recorded_micros: self.recorded.as_microsecond(),
            action: self.action.code(),
            event_type: &self.event_type,
            outcome: self.outcome.code(),
            actor_id: self.actor_id.as_ref().map(|id| id.0.as_bytes().as_slice()),
            actor_name: &self.actor_name,
            actor_roles: &self.actor_roles,
            source_address: self.source_address.as_deref(),
            entity_type: self.entity_type.as_deref(),
            entity_id: self.entity_id.as_deref(),
            patient_id: self
                .patient_id
                .as_ref()
                .map(|id| id.0.as_bytes().as_slice()),
            department_id: self
                .department_id
                .as_ref()
                .map(|id| id.0.as_bytes().as_slice()),
            detail: self.detail.as_deref(),
            before: self.before.as_deref(),
            after: self.after.as_deref(),
        }
    }
}

/// The chain hash of `event` placed at `seq` after `prev_hash`.
pub fn chain_hash(seq: u64, prev_hash: &Hash, event: &AuditEvent) -> Hash {
    chain_hash_fields(seq, prev_hash, &event.fields())
}

/// The chain hash of an event given as borrowed fields.
pub fn chain_hash_fields(seq: u64, prev_hash: &[u8], event: &EventFields<'_>) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update(HASH_CONTEXT);
    hasher.update(seq.to_be_bytes());
    hasher.update(prev_hash);
    hasher.update(event.id);
    hasher.update(event.recorded_micros.to_be_bytes());
    put_bytes(&mut hasher, event.action.as_bytes());
    put_bytes(&mut hasher, event.event_type.as_bytes());
    hasher.update(event.outcome.to_be_bytes());
    put_optional(&mut hasher, event.actor_id);
    put_bytes(&mut hasher, event.actor_name.as_bytes());
    put_bytes(&mut hasher, event.actor_roles.as_bytes());
    put_optional(&mut hasher, event.source_address.map(str::as_bytes));
    put_optional(&mut hasher, event.entity_type.map(str::as_bytes));
    put_optional(&mut hasher, event.entity_id.map(str::as_bytes));
    put_optional(&mut hasher, event.patient_id);
    put_optional(&mut hasher, event.department_id);
    put_optional(&mut hasher, event.detail.map(str::as_bytes));
    put_optional(&mut hasher, event.before.map(str::as_bytes));
    put_optional(&mut hasher, event.after.map(str::as_bytes));
    hasher.finalize().into()
}

/// Seals `events` in the given order after `head` (the last sealed event, or
/// `None` for an empty chain).
pub fn seal(head: Option<&ChainHead>, events: Vec<AuditEvent>) -> Vec<SealedEvent> {
    let (mut seq, mut prev_hash) = match head {
        Some(head) => (head.seq, head.hash),
        None => (0, GENESIS_HASH),
    };
    events
        .into_iter()
        .map(|event| {
            seq += 1;
            let hash = chain_hash(seq, &prev_hash, &event);
            let sealed = SealedEvent {
                seq,
                prev_hash,
                hash,
                event,
            };
            prev_hash = hash;
            sealed
        })
        .collect()
}

/// The last sealed event's position and hash. Written outside the database
/// (a head file, the log) so that a rewrite of the database can be detected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainHead {
    /// Sequence number of the last sealed event.
    pub seq: u64,
    /// Its chain hash.
    pub hash: Hash,
}

impl ChainHead {
    /// Parses `SEQ:HEX` as printed by [`ChainHead`]'s `Display`.
    pub fn parse(text: &str) -> Result<ChainHead, HeadParseError> {
        let (seq, hash) = text.trim().split_once(':').ok_or(HeadParseError)?;
        let seq = seq.trim().parse::<u64>().map_err(|_| HeadParseError)?;
        let bytes = hex::decode(hash.trim()).map_err(|_| HeadParseError)?;
        let hash: Hash = bytes.try_into().map_err(|_| HeadParseError)?;
        Ok(ChainHead { seq, hash })
    }
}

impl std::fmt::Display for ChainHead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.seq, hex::encode(self.hash))
    }
}

/// A head that is not `SEQ:HEX` with 64 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected the chain head as SEQUENCE:SHA256HEX, for example 1042:9f86d0...")]
pub struct HeadParseError;

/// Where and how the chain is broken. Each variant names the first bad event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainFault {
    /// A sequence number is missing: the event was deleted, or rows were
    /// renumbered.
    #[error(
        "audit event {expected_seq} is missing (the next event found is {found_seq}, id {found_id}): an event was deleted"
    )]
    Missing {
        /// The sequence number that should have come next.
        expected_seq: u64,
        /// The sequence number found instead.
        found_seq: u64,
        /// The id of the event found instead.
        found_id: AuditEventId,
    },
    /// The stored previous hash does not match the hash of the event before:
    /// an event was inserted, or events were reordered.
    #[error(
        "audit event {seq} (id {id}) does not follow event {}: an event was inserted or events were reordered",
        seq - 1
    )]
    Broken {
        /// The sequence number of the first bad event.
        seq: u64,
        /// Its id.
        id: AuditEventId,
    },
    /// The event's content does not match its hash: it was edited.
    #[error(
        "audit event {seq} (id {id}) does not match its hash: it was changed after it was sealed"
    )]
    Altered {
        /// The sequence number of the first bad event.
        seq: u64,
        /// Its id.
        id: AuditEventId,
    },
    /// The chain is shorter than the head kept outside the database.
    #[error(
        "the audit trail ends at event {last_seq} but the recorded head is event {expected_seq}: events were removed from the end"
    )]
    Truncated {
        /// The last sequence number in the database.
        last_seq: u64,
        /// The sequence number of the recorded head.
        expected_seq: u64,
    },
    /// The event at the recorded head has a different hash: the chain was
    /// rewritten and re-hashed from some earlier point.
    #[error(
        "audit event {seq} has hash {found} but the recorded head says {expected}: the trail was rewritten and re-hashed"
    )]
    Rewritten {
        /// The sequence number of the recorded head.
        seq: u64,
        /// The hash found in the database.
        found: String,
        /// The hash recorded outside the database.
        expected: String,
    },
}

/// Walks sealed events in sequence order and stops at the first fault.
///
/// Feed every sealed event, lowest sequence first, to [`ChainVerifier::check`];
/// then call [`ChainVerifier::finish`] with the externally recorded head, if any.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    next_seq: u64,
    prev_hash: Hash,
    expected_head: Option<ChainHead>,
    hash_at_expected: Option<Hash>,
}

impl ChainVerifier {
    /// A verifier for a whole chain, optionally checked against a head
    /// recorded outside the database.
    pub fn new(expected_head: Option<ChainHead>) -> ChainVerifier {
        ChainVerifier {
            next_seq: 1,
            prev_hash: GENESIS_HASH,
            expected_head,
            hash_at_expected: None,
        }
    }

    /// Checks the next event of the chain.
    pub fn check(&mut self, sealed: &SealedEvent) -> Result<(), ChainFault> {
        if sealed.seq != self.next_seq {
            return Err(ChainFault::Missing {
                expected_seq: self.next_seq,
                found_seq: sealed.seq,
                found_id: sealed.event.id,
            });
        }
        if sealed.prev_hash != self.prev_hash {
            return Err(ChainFault::Broken {
                seq: sealed.seq,
                id: sealed.event.id,
            });
        }
        let hash = chain_hash(sealed.seq, &sealed.prev_hash, &sealed.event);
        if hash != sealed.hash {
            // The row's own hash matches neither its content nor (when the
            // row was moved) its place: either way its content is not what
            // was sealed here.
            return Err(ChainFault::Altered {
                seq: sealed.seq,
                id: sealed.event.id,
            });
        }
        if self
            .expected_head
            .is_some_and(|head| head.seq == sealed.seq)
        {
            self.hash_at_expected = Some(hash);
        }
        self.prev_hash = hash;
        self.next_seq += 1;
        Ok(())
    }

    /// Ends the walk: checks the recorded head, and returns the head of the
    /// chain as found (`None` when it is empty).
    pub fn finish(self) -> Result<Option<ChainHead>, ChainFault> {
        let last_seq = self.next_seq - 1;
        if let Some(expected) = self.expected_head {
            if expected.seq > last_seq {
                return Err(ChainFault::Truncated {
                    last_seq,
                    expected_seq: expected.seq,
                });
            }
            if expected.seq > 0 && self.hash_at_expected != Some(expected.hash) {
                return Err(ChainFault::Rewritten {
                    seq: expected.seq,
                    found: self.hash_at_expected.map(hex::encode).unwrap_or_default(),
                    expected: hex::encode(expected.hash),
                });
            }
        }
        Ok((last_seq > 0).then_some(ChainHead {
            seq: last_seq,
            hash: self.prev_hash,
        }))
    }

    /// How many events have been checked so far.
    pub fn n_checked(&self) -> u64 {
        self.next_seq - 1
    }
}

/// What checking one stretch of the chain found: enough to join it to its
/// neighbours, and the first fault inside it, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// The sequence number of its first stored event (`None` when empty).
    pub first_seq: Option<u64>,
    /// The `prev_hash` its first event claims.
    pub first_prev: Option<Hash>,
    /// The id of its first event.
    pub first_id: Option<AuditEventId>,
    /// The last sequence number checked good.
    pub last_seq: Option<u64>,
    /// The hash of the last event checked good.
    pub last_hash: Option<Hash>,
    /// The hash at the recorded head's position, if the head fell in it.
    pub hash_at_expected: Option<Hash>,
    /// The first fault inside the stretch; reading stopped there.
    pub fault: Option<ChainFault>,
}

/// Checks one stretch of the chain, starting at `first_seq`, on its own, so
/// that several stretches can be read and hashed at once; [`join_segments`]
/// then checks the links between stretches. Together they find the same
/// first fault as [`ChainVerifier`] walking the whole chain.
#[derive(Debug, Clone)]
pub struct SegmentVerifier {
    next_seq: u64,
    expected_seq: Option<u64>,
    segment: Segment,
}

fn event_id_of(bytes: &[u8]) -> AuditEventId {
    AuditEventId(uuid::Uuid::from_slice(bytes).unwrap_or_default())
}

impl SegmentVerifier {
    /// A verifier for the stretch that should start at `first_seq`;
    /// `expected_seq` is the recorded head's position, if any.
    pub fn new(first_seq: u64, expected_seq: Option<u64>) -> SegmentVerifier {
        SegmentVerifier {
            next_seq: first_seq,
            expected_seq,
            segment: Segment {
                first_seq: None,
                first_prev: None,
                first_id: None,
                last_seq: None,
                last_hash: None,
                hash_at_expected: None,
                fault: None,
            },
        }
    }

    /// Checks the next stored event: its sequence number, its link to the
    /// event before it within the stretch, and its hash. Returns `false`
    /// once a fault is found (stop reading).
    pub fn check(
        &mut self,
        seq: u64,
        prev_hash: &[u8],
        hash: &[u8],
        event: &EventFields<'_>,
    ) -> bool {
        if self.segment.fault.is_some() {
            return false;
        }
        let id = event_id_of(event.id);
        let prev: Hash = prev_hash.try_into().unwrap_or([0xff; 32]);
        if self.segment.first_seq.is_none() {
            self.segment.first_seq = Some(seq);
            self.segment.first_prev = Some(prev);
            self.segment.first_id = Some(id);
        }
        let fault = if seq != self.next_seq {
            Some(ChainFault::Missing {
                expected_seq: self.next_seq,
                found_seq: seq,
                found_id: id,
            })
        } else if self.segment.last_hash.is_some_and(|last| last != prev) {
            Some(ChainFault::Broken { seq, id })
        } else {
            let computed = chain_hash_fields(seq, &prev, event);
            if prev_hash.len() != 32 || hash != computed.as_slice() {
                Some(ChainFault::Altered { seq, id })
            } else {
                if self.expected_seq == Some(seq) {
                    self.segment.hash_at_expected = Some(computed);
                }
                self.segment.last_seq = Some(seq);
                self.segment.last_hash = Some(computed);
                self.next_seq += 1;
                None
            }
        };
        let ok = fault.is_none();
        self.segment.fault = fault;
        ok
    }

    /// Records a fault found outside the hash check (an unreadable row).
    pub fn fail(&mut self, fault: ChainFault) {
        if self.segment.fault.is_none() {
            self.segment.fault = Some(fault);
        }
    }

    /// The stretch as checked.
    pub fn finish(self) -> Segment {
        self.segment
    }
}

/// Joins checked stretches, given in sequence order and together covering
/// the chain from 1, into one verdict: the first fault by sequence number,
/// whether inside a stretch or at the link between two; then the recorded
/// head. Returns the head found.
pub fn join_segments(
    segments: &[Segment],
    expected_head: Option<ChainHead>,
) -> Result<Option<ChainHead>, ChainFault> {
    let mut prev_hash = GENESIS_HASH;
    let mut last_seq = 0;
    let mut hash_at_expected = None;
    for segment in segments {
        if let (Some(first_seq), Some(first_prev)) = (segment.first_seq, segment.first_prev) {
            let first_id = segment.first_id.unwrap_or(AuditEventId(uuid::Uuid::nil()));
            if first_seq != last_seq + 1 {
                return Err(ChainFault::Missing {
                    expected_seq: last_seq + 1,
                    found_seq: first_seq,
                    found_id: first_id,
                });
            }
            if first_prev != prev_hash {
                return Err(ChainFault::Broken {
                    seq: first_seq,
                    id: first_id,
                });
            }
        }
        if let Some(fault) = &segment.fault {
            return Err(fault.clone());
        }
        if segment.hash_at_expected.is_some() {
            hash_at_expected = segment.hash_at_expected;
        }
        if let (Some(seq), Some(hash)) = (segment.last_seq, segment.last_hash) {
            last_seq = seq;
            prev_hash = hash;
        }
    }
    if let Some(expected) = expected_head {
        if expected.seq > last_seq {
            return Err(ChainFault::Truncated {
                last_seq,
                expected_seq: expected.seq,
            });
        }
        if expected.seq > 0 && hash_at_expected != Some(expected.hash) {
            return Err(ChainFault::Rewritten {
                seq: expected.seq,
                found: hash_at_expected.map(hex::encode).unwrap_or_default(),
                expected: hex::encode(expected.hash),
            });
        }
    }
    Ok((last_seq > 0).then_some(ChainHead {
        seq: last_seq,
        hash: prev_hash,
    }))
}

#[cfg(test)]
mod tests;
