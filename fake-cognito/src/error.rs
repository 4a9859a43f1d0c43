//! The crate's one error enum. Cognito API errors render as Cognito does (`{"__type","message"}`,
//! HTTP 400, `x-amzn-ErrorType`); OAuth2 endpoint errors render as RFC 6749 `{"error": ...}`.
//! A state write that could not be made durable answers 503 `InternalErrorException`: the client
//! must not believe the write was acknowledged.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug, Clone, thiserror::Error)]
pub enum CognitoError {
    #[error("{0}")]
    NotAuthorized(String),
    #[error("{0}")]
    UserNotFound(String),
    #[error("{0}")]
    UsernameExists(String),
    #[error("{0}")]
    InvalidParameter(String),
    #[error("{0}")]
    InvalidPassword(String),
    #[error("{0}")]
    ResourceNotFound(String),
    #[error("{0}")]
    CodeMismatch(String),
    #[error("{0}")]
    ExpiredCode(String),
    #[error("{0}")]
    UserNotConfirmed(String),
    #[error("{0}")]
    PasswordResetRequired(String),
    #[error("{0}")]
    GroupExists(String),
    #[error("{0}")]
    AliasExists(String),
    #[error("{0}")]
    DuplicateProvider(String),
    #[error("{0}")]
    ScopeDoesNotExist(String),
    #[error("{0}")]
    LimitExceeded(String),
    #[error("{0}")]
    UnsupportedTokenType(String),
    #[error("{0}")]
    UnsupportedOperation(String),
    #[error("{0}")]
    EnableSoftwareTokenMfa(String),
    #[error("{0}")]
    SoftwareTokenMfaNotFound(String),
    #[error("{0}")]
    Unauthorized(String),
    /// A Lambda trigger's function failed (`<Trigger> failed with error <message>.`).
    #[error("{0}")]
    UserLambdaValidation(String),
    /// A Lambda trigger could not be invoked (not found, not running, Cognito's 5 s timeout).
    #[error("{0}")]
    UnexpectedLambda(String),
    /// A Lambda trigger answered something Cognito cannot use.
    #[error("{0}")]
    InvalidLambdaResponse(String),
    #[error("{0}")]
    UnknownOperation(String),
    #[error("{0}")]
    Serialization(String),
    /// The write was applied in memory but could not be made durable.
    #[error("{0}")]
    Persistence(String),
    #[error("{0}")]
    Internal(String),
    /// OAuth2 endpoint error (`/oauth2/*`), RFC 6749 shape.
    #[error("{error}")]
    OAuth {
        error: &'static str,
        status: StatusCode,
    },
}

impl CognitoError {
    pub fn type_name(&self) -> &'static str {
        use CognitoError::*;
        match self {
            NotAuthorized(_) => "NotAuthorizedException",
            UserNotFound(_) => "UserNotFoundException",
            UsernameExists(_) => "UsernameExistsException",
            InvalidParameter(_) => "InvalidParameterException",
            InvalidPassword(_) => "InvalidPasswordException",
            ResourceNotFound(_) => "ResourceNotFoundException",
            CodeMismatch(_) => "CodeMismatchException",
            ExpiredCode(_) => "ExpiredCodeException",
            UserNotConfirmed(_) => "UserNotConfirmedException",
            PasswordResetRequired(_) => "PasswordResetRequiredException",
            GroupExists(_) => "GroupExistsException",
            AliasExists(_) => "AliasExistsException",
            DuplicateProvider(_) => "DuplicateProviderException",
            ScopeDoesNotExist(_) => "ScopeDoesNotExistException",
            LimitExceeded(_) => "LimitExceededException",
            UnsupportedTokenType(_) => "UnsupportedTokenTypeException",
            UnsupportedOperation(_) => "UnsupportedOperationException",
            EnableSoftwareTokenMfa(_) => "EnableSoftwareTokenMFAException",
            SoftwareTokenMfaNotFound(_) => "SoftwareTokenMFANotFoundException",
            Unauthorized(_) => "UnauthorizedException",
            UserLambdaValidation(_) => "UserLambdaValidationException",
            UnexpectedLambda(_) => "UnexpectedLambdaException",
            InvalidLambdaResponse(_) => "InvalidLambdaResponseException",
            UnknownOperation(_) => "UnknownOperationException",
            Serialization(_) => "SerializationException",
            Persistence(_) | Internal(_) => "InternalErrorException",
            OAuth { .. } => "OAuthError",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            // Never 500 (house rule): both are "the service cannot do this right now".
            CognitoError::Persistence(_) | CognitoError::Internal(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            CognitoError::OAuth { status, .. } => *status,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    pub fn missing(name: &str) -> Self {
        CognitoError::InvalidParameter(format!("Missing required parameter {name}"))
    }

    pub fn pool_not_found(id: &str) -> Self {
        CognitoError::ResourceNotFound(format!("User pool {id} does not exist."))
    }

    pub fn client_not_found(id: &str) -> Self {
        CognitoError::ResourceNotFound(format!("User pool client {id} does not exist."))
    }

    pub fn user_not_found() -> Self {
        CognitoError::UserNotFound("User does not exist.".into())
    }

    pub fn bad_credentials() -> Self {
        CognitoError::NotAuthorized("Incorrect username or password.".into())
    }

    pub fn oauth(error: &'static str) -> Self {
        let status = if error == "invalid_client" {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::BAD_REQUEST
        };
        CognitoError::OAuth { error, status }
    }
}

impl IntoResponse for CognitoError {
    fn into_response(self) -> Response {
        if let CognitoError::OAuth { error, status } = &self {
            return (*status, axum::Json(json!({ "error": error }))).into_response();
        }
        let type_name = self.type_name();
        let body = json!({ "__type": type_name, "message": self.to_string() });
        let mut res = (self.status(), body.to_string()).into_response();
        let headers = res.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-amz-json-1.1"),
        );
        if let Ok(v) = HeaderValue::from_str(&format!("{type_name}:")) {
            headers.insert("x-amzn-ErrorType", v);
        }
        res
    }
}

pub type Result<T, E = CognitoError> = std::result::Result<T, E>;
