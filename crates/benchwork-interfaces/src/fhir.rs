//! FHIR R4 (4.0.1) resources, hand-written serde structs (STACK.md: the
//! generated model crates are huge and ship R4B/R5, not plain R4).

use benchwork_domain::audit::{AuditAction, AuditEvent as DomainEvent, AuditOutcome};
use serde::Serialize;

/// A FHIR `Coding`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coding {
    /// Code system URI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// The code.
    pub code: String,
    /// Human-readable text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

/// A FHIR `Reference` with identifier or display only.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reference {
    /// A literal reference, e.g. `Practitioner/…`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Text for people.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

/// `AuditEvent.agent.network`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Network {
    /// The address.
    pub address: String,
    /// `2` = IP address.
    #[serde(rename = "type")]
    pub kind: String,
}

/// `AuditEvent.agent`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Agent {
    /// Roles held at the time.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub role: Vec<CodeableConcept>,
    /// Who.
    pub who: Reference,
    /// Whether this agent initiated the event.
    pub requestor: bool,
    /// Where from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network: Option<Network>,
}

/// A FHIR `CodeableConcept`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CodeableConcept {
    /// Codings.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub coding: Vec<Coding>,
    /// Text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// `AuditEvent.source`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Source {
    /// The system that recorded the event.
    pub observer: Reference,
}

/// `AuditEvent.entity.detail`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EntityDetail {
    /// Name of the detail.
    #[serde(rename = "type")]
    pub kind: String,
    /// Its value.
    pub value_string: String,
}

/// `AuditEvent.entity`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entity {
    /// The record.
    pub what: Reference,
    /// Its role (e.g. patient).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<Coding>,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Before/after and chain details.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub detail: Vec<EntityDetail>,
}

/// A FHIR R4 `AuditEvent`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    /// Always `AuditEvent`.
    pub resource_type: &'static str,
    /// Logical id.
    pub id: String,
    /// Event type (DICOM/HL7 audit event type; `rest` for application events).
    #[serde(rename = "type")]
    pub kind: Coding,
    /// Benchwork's own event code.
    pub subtype: Vec<Coding>,
    /// C, R, U, D or E.
    pub action: String,
    /// When recorded.
    pub recorded: String,
    /// 0, 4, 8 or 12.
    pub outcome: String,
    /// Description of the outcome.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome_desc: Option<String>,
    /// Who.
    pub agent: Vec<Agent>,
    /// Recorded by.
    pub source: Source,
    /// What.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub entity: Vec<Entity>,
}

const EVENT_TYPE_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/audit-event-type";
const BENCHWORK_EVENT_SYSTEM: &str = "https://benchwork.example/fhir/CodeSystem/audit-event";
const ROLE_SYSTEM: &str = "https://benchwork.example/fhir/CodeSystem/role";

impl AuditEvent {
    /// The FHIR form of a sealed or unsealed event; `seq` is carried as an
    /// entity detail so that the chain position survives export.
    pub fn from_domain(event: &DomainEvent, seq: Option<u64>) -> AuditEvent {
        let mut entity = Vec::new();
        if let (Some(kind), Some(id)) = (&event.entity_type, &event.entity_id) {
            let mut detail = Vec::new();
            if let Some(before) = &event.before {
                detail.push(EntityDetail {
                    kind: "before".into(),
                    value_string: before.clone(),
                });
            }
            if let Some(after) = &event.after {
                detail.push(EntityDetail {
                    kind: "after".into(),
                    value_string: after.clone(),
                });
            }
            if let Some(seq) = seq {
                detail.push(EntityDetail {
                    kind: "chain-sequence".into(),
                    value_string: seq.to_string(),
                });
            }
            entity.push(Entity {
                what: Reference {
                    reference: Some(format!("{kind}/{id}")),
                    display: None,
                },
                role: None,
                description: event.detail.clone(),
                detail,
            });
        }
        if let Some(patient) = event.patient_id {
            entity.push(Entity {
                what: Reference {
                    reference: Some(format!("Patient/{patient}")),
                    display: None,
                },
                role: Some(Coding {
                    system: Some("http://terminology.hl7.org/CodeSystem/object-role".into()),
                    code: "1".into(),
                    display: Some("Patient".into()),
                }),
                description: None,
                detail: Vec::new(),
            });
        }
        let (type_code, type_display) = match event.action {
            AuditAction::Execute if event.event_type.starts_with("session.") => {
                ("110114", "User Authentication")
            }
            _ => ("rest", "RESTful Operation"),
        };
        AuditEvent {
            resource_type: "AuditEvent",
            id: event.id.to_string(),
            kind: Coding {
                system: Some(if type_code == "rest" {
                    EVENT_TYPE_SYSTEM.into()
                } else {
                    "http://dicom.nema.org/resources/ontology/DCM".into()
                }),
                code: type_code.into(),
                display: Some(type_display.into()),
            },
            subtype: vec![Coding {
                system: Some(BENCHWORK_EVENT_SYSTEM.into()),
                code: event.event_type.clone(),
                display: None,
            }],
            action: event.action.code().into(),
            recorded: event.recorded.to_string(),
            outcome: event.outcome.code().to_string(),
            outcome_desc: (event.outcome != AuditOutcome::Success)
                .then(|| event.detail.clone())
                .flatten(),
            agent: vec![Agent {
                role: event
                    .actor_roles
                    .split(',')
                    .filter(|code| !code.is_empty())
                    .map(|code| CodeableConcept {
                        coding: vec![Coding {
                            system: Some(ROLE_SYSTEM.into()),
                            code: code.into(),
                            display: None,
                        }],
                        text: None,
                    })
                    .collect(),
                who: Reference {
                    reference: event.actor_id.map(|id| format!("Practitioner/{id}")),
                    display: Some(event.actor_name.clone()),
                },
                requestor: true,
                network: event.source_address.as_ref().map(|address| Network {
                    address: address.clone(),
                    kind: "2".into(),
                }),
            }],
            source: Source {
                observer: Reference {
                    reference: None,
                    display: Some("Benchwork".into()),
                },
            },
            entity,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use benchwork_domain::ids::{AuditEventId, UserId};

    #[test]
    fn an_update_exports_as_a_fhir_audit_event() {
        let event = DomainEvent {
            id: AuditEventId(Default::default()),
            recorded: "2026-11-25T10:00:00Z".parse().unwrap(),
            action: AuditAction::Update,
            event_type: "incident.update".into(),
            outcome: AuditOutcome::Success,
            actor_id: Some(UserId(Default::default())),
            actor_name: "quality".into(),
            actor_roles: "quality-manager".into(),
            source_address: Some("10.0.0.5".into()),
            entity_type: Some("Incident".into()),
            entity_id: Some("42".into()),
            patient_id: None,
            department_id: None,
            detail: None,
            before: Some("{\"status\":\"open\"}".into()),
            after: Some("{\"status\":\"closed\"}".into()),
        };
        let json = serde_json::to_value(AuditEvent::from_domain(&event, Some(7))).unwrap();
        assert_eq!(json["resourceType"], "AuditEvent");
        assert_eq!(json["action"], "U");
        assert_eq!(json["outcome"], "0");
        assert_eq!(json["recorded"], "2026-11-25T10:00:00Z");
        assert_eq!(json["agent"][0]["who"]["display"], "quality");
        assert_eq!(json["agent"][0]["network"]["address"], "10.0.0.5");
        assert_eq!(json["entity"][0]["what"]["reference"], "Incident/42");
        assert_eq!(json["entity"][0]["detail"][2]["valueString"], "7");
    }
}
