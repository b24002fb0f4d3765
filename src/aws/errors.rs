//! AWS SDK errors as one sentence a person can act on: what failed, the service's own error
//! code and message, and what to check (`--profile`, `--region`, `--endpoint-url`,
//! permissions) — never the SDK's debug structures, and never a credential.

use std::error::Error as StdError;

use aws_sdk_cloudwatchlogs::error::{ProvideErrorMetadata, SdkError};

/// What went wrong with one AWS call, reduced to what the message needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    /// AWS answered with an error.
    Service {
        /// The service's error code (`AccessDeniedException`, …).
        code: String,
        /// The service's message, if it gave one.
        message: Option<String>,
    },
    /// No credentials in the chain (profile, environment, SSO, instance role).
    NoCredentials,
    /// The endpoint could not be reached (DNS, refused, TLS, dropped).
    Unreachable(String),
    /// No answer within the time allowed.
    Timeout,
    /// The request could not be built, or the answer could not be read.
    Other(String),
}

impl Failure {
    /// The failure of an SDK call.
    pub(crate) fn of<E, R>(e: &SdkError<E, R>) -> Failure
    where
        E: ProvideErrorMetadata + StdError + 'static,
        R: std::fmt::Debug + 'static,
    {
        match e {
            SdkError::ServiceError(_) => Failure::Service {
                code: e.code().unwrap_or("UnknownError").to_string(),
                message: e.message().map(str::to_string),
            },
            SdkError::TimeoutError(_) => Failure::Timeout,
            SdkError::DispatchFailure(d) => {
                let detail = innermost(e);
                if chain_mentions(e, "no credentials")
                    || chain_mentions(e, "credentials not loaded")
                {
                    Failure::NoCredentials
                } else if d.is_timeout() {
                    Failure::Timeout
                } else if d.is_io() {
                    Failure::Unreachable(detail)
                } else {
                    Failure::Other(detail)
                }
            }
            _ => Failure::Other(innermost(e)),
        }
    }

    /// One sentence: `{operation} failed: …`, then what to check.
    pub(crate) fn sentence(&self, operation: &str) -> String {
        match self {
            Failure::Service { code, message } => {
                let message = message
                    .as_deref()
                    .map(|m| format!(": {}", m.trim_end_matches('.')))
                    .unwrap_or_default();
                format!("{operation} failed: {code}{message}. {}", hint(code))
            }
            Failure::NoCredentials => format!(
                "{operation} failed: no AWS credentials found. Give --profile (after `aws sso \
                 login` for SSO profiles), or set AWS_PROFILE or AWS_ACCESS_KEY_ID and \
                 AWS_SECRET_ACCESS_KEY."
            ),
            Failure::Unreachable(detail) => format!(
                "{operation} failed: AWS could not be reached ({detail}). Check the network, \
                 --region and --endpoint-url."
            ),
            Failure::Timeout => format!(
                "{operation} failed: no answer in time. Check the network, --region and \
                 --endpoint-url, or try again."
            ),
            Failure::Other(detail) => format!(
                "{operation} failed: {detail}. Check --profile, --region and --endpoint-url."
            ),
        }
    }
}

/// What to check for a service error code.
fn hint(code: &str) -> &'static str {
    let lower = code.to_ascii_lowercase();
    if lower.contains("accessdenied")
        || lower.contains("unauthorized")
        || lower.contains("notauthorized")
        || lower == "forbidden"
    {
        "Check that the credentials of --profile may make this call (IAM permissions)."
    } else if lower.contains("expired")
        || lower.contains("unrecognizedclient")
        || lower.contains("invalidclienttokenid")
        || lower.contains("signature")
        || lower.contains("invalidaccesskey")
    {
        "Check --profile: its credentials are not valid for this account or have expired \
         (`aws sso login` renews SSO sessions)."
    } else if lower.contains("notfound") || lower.contains("nosuch") {
        "Check the name and --region (each Region has its own resources)."
    } else if lower.contains("throttl")
        || lower.contains("toomanyrequests")
        || lower.contains("limitexceeded")
        || lower.contains("requestlimit")
    {
        "AWS kept throttling after every retry: try again later, or raise --max-attempts."
    } else if lower.contains("validation") || lower.contains("invalidparameter") {
        "Check the values given on the command line."
    } else {
        "Check --profile, --region and permissions."
    }
}

/// The Display text of the last error in the source chain (the root cause, without the
/// layers' debug output).
fn innermost(e: &(dyn StdError + 'static)) -> String {
    let mut current = e;
    while let Some(next) = current.source() {
        current = next;
    }
    let text = current.to_string();
    text.lines().next().unwrap_or_default().trim().to_string()
}

fn chain_mentions(e: &(dyn StdError + 'static), needle: &str) -> bool {
    let mut current = Some(e);
    while let Some(err) = current {
        if err.to_string().to_ascii_lowercase().contains(needle) {
            return true;
        }
        current = err.source();
    }
    false
}

/// An AWS SDK error as one actionable sentence (see [`Failure`]).
pub fn describe_error<E, R>(operation: &str, e: SdkError<E, R>) -> anyhow::Error
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    anyhow::anyhow!("{}", Failure::of(&e).sentence(operation))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudwatchlogs::error::ErrorMetadata;
    use aws_sdk_cloudwatchlogs::operation::filter_log_events::FilterLogEventsError;

    fn service(code: &str, message: &str) -> SdkError<FilterLogEventsError, ()> {
        let meta = ErrorMetadata::builder().code(code).message(message).build();
        SdkError::service_error(FilterLogEventsError::generic(meta), ())
    }

    #[test]
    fn a_service_error_is_its_code_message_and_what_to_check() {
        let e = service(
            "AccessDeniedException",
            "User: arn:aws:sts::1:assumed-role/x is not authorized to perform: logs:FilterLogEvents",
        );
        let text = describe_error("FilterLogEvents on /aws/api", e).to_string();
        assert_eq!(
            text,
            "FilterLogEvents on /aws/api failed: AccessDeniedException: User: \
             arn:aws:sts::1:assumed-role/x is not authorized to perform: logs:FilterLogEvents. \
             Check that the credentials of --profile may make this call (IAM permissions)."
        );
        assert!(!text.contains("ErrorMetadata"));
    }

    #[test]
    fn each_kind_of_code_gets_its_hint() {
        for (code, expect) in [
            ("ResourceNotFoundException", "--region"),
            ("ExpiredTokenException", "aws sso login"),
            ("UnrecognizedClientException", "not valid"),
            ("ThrottlingException", "--max-attempts"),
            ("ValidationException", "values given"),
            ("SomethingNew", "permissions"),
        ] {
            let text = describe_error("X", service(code, "m.")).to_string();
            assert!(text.contains(expect), "{code}: {text}");
            assert!(text.contains(&format!("{code}: m. ")), "{text}");
        }
    }

    #[test]
    fn sentences_without_a_service_answer() {
        assert!(Failure::NoCredentials
            .sentence("GetMetricData")
            .contains("no AWS credentials found. Give --profile"));
        assert_eq!(
            Failure::Unreachable("Connection refused (os error 111)".into()).sentence("A"),
            "A failed: AWS could not be reached (Connection refused (os error 111)). Check the \
             network, --region and --endpoint-url."
        );
        assert!(Failure::Timeout.sentence("A").contains("no answer in time"));
    }
}
