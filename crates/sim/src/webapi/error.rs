//! Dataverse's error answers: status, `{"error":{"code","message"}}` body, and the codes and
//! messages Dataverse uses for each kind of failure.
//!
//! Codes and messages come from Microsoft's documentation where it gives them; the README lists
//! the ones the simulator had to choose itself.

use serde_json::json;
use uuid::Uuid;

/// An error answer of the Web API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl WebApiError {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        Self { status, code: code.to_string(), message: message.into() }
    }

    pub fn body(&self) -> Vec<u8> {
        json!({"error": {"code": self.code, "message": self.message}}).to_string().into_bytes()
    }

    /// Unknown entity set, function or action (documented).
    pub fn segment_not_found(segment: &str) -> Self {
        Self::new(404, "0x8006088a", format!("Resource not found for the segment '{segment}'."))
    }

    /// A known resource used with the wrong HTTP method (documented).
    pub fn no_resource(url: &str) -> Self {
        Self::new(404, "", format!("No HTTP resource was found that matches the request URI '{url}'."))
    }

    /// Unknown column in `$select` or `$filter` (documented, including the "0x0" code).
    pub fn unknown_property(property: &str, logical: &str) -> Self {
        Self::new(
            400,
            "0x0",
            format!(
                "Could not find a property named '{property}' on type 'Microsoft.Dynamics.CRM.{logical}'."
            ),
        )
    }

    /// A malformed query option or URL (code as Dataverse uses for OData syntax errors).
    pub fn bad_query(message: impl Into<String>) -> Self {
        Self::new(400, "0x80060888", message)
    }

    /// A row that does not exist (documented).
    pub fn row_not_found(logical: &str, id: &Uuid) -> Self {
        Self::new(404, "0x80040217", format!("Entity '{logical}' With Id = {id} Does Not Exist"))
    }

    /// A request body Dataverse cannot read: malformed JSON, unknown property, wrong type.
    pub fn payload(set: &str, inner: impl std::fmt::Display) -> Self {
        Self::new(
            400,
            "0x80048d19",
            format!(
                "Error identified in Payload provided by the user for Entity :'{set}', For more information on this error please follow this help link https://go.microsoft.com/fwlink/?linkid=2195293  ----> InnerException : Microsoft.OData.ODataException: {inner}"
            ),
        )
    }

    /// A choice column given a value outside its options.
    pub fn out_of_range(column: &str, logical: &str, value: i64, allowed: &[i64]) -> Self {
        let accepted: Vec<String> = allowed.iter().map(i64::to_string).collect();
        Self::new(
            400,
            "0x8004431a",
            format!(
                "A validation error occurred. The value {value} of '{column}' on record of type '{logical}' is outside the valid range. Accepted Values: {}",
                accepted.join(",")
            ),
        )
    }

    /// The caller lacks a privilege (403).
    pub fn privilege(caller: &Uuid, privilege: &str, logical: &str, detail: &str) -> Self {
        Self::new(
            403,
            "0x80040220",
            format!(
                "Principal user (Id={caller}, type=8) is missing {privilege} privilege on entity '{logical}'. {detail}"
            ),
        )
    }

    /// Associating a role the user already has (documented code; 412 per the docs' table).
    pub fn duplicate_key() -> Self {
        Self::new(412, "0x80040237", "Cannot insert duplicate key.")
    }

    /// `If-Match` with a stale etag.
    pub fn version_mismatch() -> Self {
        Self::new(
            412,
            "0x80060882",
            "The version of the existing record doesn't match the RowVersion property provided.",
        )
    }

    /// Something real Dataverse does that this simulator does not implement.
    pub fn not_implemented(what: &str) -> Self {
        Self::new(501, "0x80040216", format!("The Dataverse simulator does not implement {what}."))
    }

    /// The service is busy (injected fault). Dataverse documents 503 for this but not its body;
    /// this one is the simulator's.
    pub fn unavailable() -> Self {
        Self::new(503, "0x80040216", "The service is temporarily unavailable. Try again later.")
    }

    /// Unexpected server failure (injected fault).
    pub fn unexpected() -> Self {
        Self::new(500, "0x80040216", "An unexpected error occurred.")
    }
}
