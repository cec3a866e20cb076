//! Who may do what on the platform: roles, permissions and the one matrix between them, plus
//! the closed vocabularies of platform resources (tenant and user status, knowledge categories,
//! message status). Each has one spelling, used on the wire, in the database and in checks.

use serde::{Deserialize, Serialize};

/// Declares a closed string enum with one spelling for the wire, the database and `Display`.
macro_rules! closed_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// The value spelled `text`, if it is one.
            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// Every spelling, for error messages and database checks.
            pub fn spellings() -> Vec<&'static str> {
                Self::ALL.iter().map(|v| v.as_str()).collect()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use closed_enum;

closed_enum!(
    /// A user's or API key's role within a tenant.
    Role {
        Owner = "owner",
        Admin = "admin",
        Manager = "manager",
        Agent = "agent",
        Viewer = "viewer",
    }
);

closed_enum!(
    /// One thing a role may do, spelled `resource:action`.
    Permission {
        TenantRead = "tenant:read",
        TenantWrite = "tenant:write",
        TenantDelete = "tenant:delete",
        UsersRead = "users:read",
        UsersWrite = "users:write",
        ApiKeysRead = "api_keys:read",
        ApiKeysWrite = "api_keys:write",
        AgentsRead = "agents:read",
        AgentsWrite = "agents:write",
        NumbersRead = "numbers:read",
        NumbersWrite = "numbers:write",
        KnowledgeRead = "knowledge:read",
        KnowledgeWrite = "knowledge:write",
        CallsRead = "calls:read",
        CallsWrite = "calls:write",
        MessagesRead = "messages:read",
        MessagesWrite = "messages:write",
        /// Departments, employees, their hours, and the company's information.
        DirectoryRead = "directory:read",
        DirectoryWrite = "directory:write",
        /// Branches, customers, vehicles, jobs, appointments, the do-not-call list, QA reviews.
        CrmRead = "crm:read",
        CrmWrite = "crm:write",
        CampaignsRead = "campaigns:read",
        CampaignsWrite = "campaigns:write",
        ScriptsRead = "scripts:read",
        ScriptsWrite = "scripts:write",
        AuditRead = "audit:read",
        /// Read call data (numbers, names, transcripts) in Temporal histories via the codec.
        PayloadsDecode = "payloads:decode",
        /// Encode payloads through the codec (the Temporal UI's signal and reset forms).
        PayloadsEncode = "payloads:encode",
    }
);

impl Permission {
    /// `read` for the permissions that change nothing.
    pub fn is_read(self) -> bool {
        self.as_str().ends_with(":read")
    }

    fn resource(self) -> &'static str {
        self.as_str().split(':').next().unwrap_or_default()
    }
}

impl Role {
    /// The permission matrix, in one place (seed 004's, extended to this platform's resources):
    /// - owner: everything;
    /// - admin: everything but deleting the tenant;
    /// - manager: campaigns, calls, messages, the directory and the CRM (read and write), scripts
    ///   read, and reading the agents, numbers, knowledge and tenant they work with; may decode
    ///   call data;
    /// - agent: calls read and write, messages read and write, campaigns, directory and CRM read;
    /// - viewer: every `read` except the audit log.
    pub fn allows(self, permission: Permission) -> bool {
        use Permission as P;
        match self {
            Role::Owner => true,
            Role::Admin => permission != P::TenantDelete,
            Role::Manager => {
                matches!(
                    permission.resource(),
                    "campaigns" | "calls" | "messages" | "directory" | "crm"
                ) || matches!(
                    permission,
                    P::ScriptsRead
                        | P::AgentsRead
                        | P::NumbersRead
                        | P::KnowledgeRead
                        | P::TenantRead
                        | P::PayloadsDecode
                )
            }
            Role::Agent => matches!(
                permission,
                P::CallsRead
                    | P::CallsWrite
                    | P::MessagesRead
                    | P::MessagesWrite
                    | P::CampaignsRead
                    | P::DirectoryRead
                    | P::CrmRead
            ),
            Role::Viewer => permission.is_read() && permission != P::AuditRead,
        }
    }

    /// Every permission this role has.
    pub fn permissions(self) -> Vec<Permission> {
        Permission::ALL
            .iter()
            .copied()
            .filter(|p| self.allows(*p))
            .collect()
    }

    /// Whether someone with this role may hand out `other` (to a user or an API key): never a
    /// role with a permission they lack themselves.
    pub fn may_grant(self, other: Role) -> bool {
        other.permissions().iter().all(|p| self.allows(*p))
    }
}

closed_enum!(
    /// Whether a tenant's numbers answer and its users may sign in.
    TenantStatus {
        Active = "active",
        Suspended = "suspended",
    }
);

closed_enum!(
    /// Whether a user may sign in.
    UserStatus {
        Active = "active",
        Disabled = "disabled",
    }
);

closed_enum!(
    /// Where a message an agent took stands.
    MessageStatus {
        New = "new",
        Read = "read",
        Handled = "handled",
    }
);

closed_enum!(
    /// Seed 002's 18 knowledge categories.
    KnowledgeCategory {
        BusinessInformation = "business_information",
        ProductsServices = "products_services",
        SupportFaq = "support_faq",
        CompanyHistory = "company_history",
        Policies = "policies",
        ProcessesProcedures = "processes_procedures",
        EventsNews = "events_news",
        TechnicalSpecs = "technical_specs",
        PricingBilling = "pricing_billing",
        InventoryStock = "inventory_stock",
        LegalCompliance = "legal_compliance",
        Partnerships = "partnerships",
        MarketingPromotions = "marketing_promotions",
        TrainingEducation = "training_education",
        QualityStandards = "quality_standards",
        FeedbackReviews = "feedback_reviews",
        EmergencyContact = "emergency_contact",
        CustomBusinessLogic = "custom_business_logic",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_matrix_follows_seed_004() {
        use Permission as P;
        assert!(Role::Owner.allows(P::TenantDelete));
        assert!(!Role::Admin.allows(P::TenantDelete));
        assert!(Role::Admin.allows(P::UsersWrite));
        assert!(Role::Manager.allows(P::CampaignsWrite));
        assert!(Role::Manager.allows(P::ScriptsRead));
        assert!(!Role::Manager.allows(P::ScriptsWrite));
        assert!(!Role::Manager.allows(P::UsersWrite));
        assert!(Role::Agent.allows(P::CallsWrite));
        assert!(!Role::Agent.allows(P::CampaignsWrite));
        assert!(Role::Agent.allows(P::CampaignsRead));
        assert!(!Role::Agent.allows(P::AgentsRead));
        assert!(Role::Manager.allows(P::CrmWrite));
        assert!(Role::Agent.allows(P::CrmRead));
        assert!(!Role::Agent.allows(P::CrmWrite));
        for p in Permission::ALL {
            assert_eq!(
                Role::Viewer.allows(*p),
                p.is_read() && *p != P::AuditRead,
                "{p}"
            );
        }
    }

    #[test]
    fn nobody_grants_more_than_they_have() {
        assert!(Role::Owner.may_grant(Role::Owner));
        assert!(!Role::Admin.may_grant(Role::Owner));
        assert!(Role::Admin.may_grant(Role::Manager));
        assert!(
            !Role::Manager.may_grant(Role::Viewer),
            "a viewer reads users"
        );
        assert!(!Role::Viewer.may_grant(Role::Agent));
    }

    #[test]
    fn spellings_round_trip() {
        for c in KnowledgeCategory::ALL {
            assert_eq!(KnowledgeCategory::parse(c.as_str()), Some(*c));
            assert_eq!(serde_json::to_string(c).unwrap(), format!("\"{c}\""));
        }
        assert_eq!(KnowledgeCategory::ALL.len(), 18);
        assert_eq!(Role::parse("manager"), Some(Role::Manager));
        assert_eq!(Role::parse("root"), None);
        assert_eq!(Permission::parse("calls:read"), Some(Permission::CallsRead));
    }
}
