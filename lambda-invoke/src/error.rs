//! The crate's one error enum: what resolving a name or building a table can fail with. Each
//! variant knows the AWS error code Lambda answers with, so a server can answer in AWS's shape.
//! (An invocation never fails with an error: its result is an [`crate::InvokeOutcome`].)

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LambdaError {
    /// The name does not match AWS's `FunctionName` pattern or length.
    #[error("{0}")]
    Validation(String),
    /// No such function in the table; the message is AWS's (`Function not found: <arn>`).
    #[error("Function not found: {arn}")]
    NotFound { arn: String },
    /// A parameter contradicts another (the qualifier in the name vs `?Qualifier=`).
    #[error("{0}")]
    InvalidParameter(String),
    /// The function table itself is wrong (duplicate name, bad URL, unreadable file).
    #[error("function table: {0}")]
    Table(String),
    /// The HTTP client could not be built.
    #[error("HTTP client: {0}")]
    Client(String),
}

impl LambdaError {
    /// The error code AWS Lambda answers with (`x-amzn-ErrorType`).
    pub fn aws_code(&self) -> &'static str {
        match self {
            LambdaError::Validation(_) => "ValidationException",
            LambdaError::NotFound { .. } => "ResourceNotFoundException",
            LambdaError::InvalidParameter(_) | LambdaError::Table(_) => {
                "InvalidParameterValueException"
            }
            LambdaError::Client(_) => "ServiceException",
        }
    }

    /// The HTTP status AWS Lambda answers with.
    pub fn http_status(&self) -> u16 {
        match self {
            LambdaError::Validation(_)
            | LambdaError::InvalidParameter(_)
            | LambdaError::Table(_) => 400,
            LambdaError::NotFound { .. } => 404,
            // Ours, not the caller's; 503 rather than AWS's 500, which we never answer.
            LambdaError::Client(_) => 503,
        }
    }
}
