//! One marker type per [`Permission`], for `Authorized<perm::AgentsWrite>` in a handler's
//! signature: the permission an endpoint needs is part of its type, and its OpenAPI `security`
//! names the same permission (the permission walk test holds the two together).

use domain::Permission;

/// A permission a handler requires.
pub trait Required {
    const PERMISSION: Permission;
}

macro_rules! markers {
    ($($name:ident),+ $(,)?) => {
        $(
            #[derive(Debug, Clone, Copy)]
            pub struct $name;
            impl Required for $name {
                const PERMISSION: Permission = Permission::$name;
            }
        )+
    };
}

markers!(
    TenantRead,
    TenantWrite,
    TenantDelete,
    UsersRead,
    UsersWrite,
    ApiKeysRead,
    ApiKeysWrite,
    AgentsRead,
    AgentsWrite,
    NumbersRead,
    NumbersWrite,
    KnowledgeRead,
    KnowledgeWrite,
    DirectoryRead,
    DirectoryWrite,
    CrmRead,
    CrmWrite,
    CallsRead,
    CallsWrite,
    MessagesRead,
    MessagesWrite,
    CampaignsRead,
    CampaignsWrite,
    ScriptsRead,
    ScriptsWrite,
    AuditRead,
    PayloadsDecode,
    PayloadsEncode,
);
