//! Reading straight from AWS (CloudWatch Logs today): the standard credential chain,
//! `--profile`, `--region`, `--endpoint-url` (and `AWS_ENDPOINT_URL`), the SDK's adaptive
//! retry with backoff for throttling, 5xx and dropped connections, and per-attempt timeouts.
//! Credentials are never printed or logged.

pub mod logs;

use std::time::Duration;

use anyhow::{bail, Result};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use clap::Args;

/// Where and as whom to call AWS.
#[derive(Debug, Clone, Default, Args)]
pub struct AwsArgs {
    /// AWS profile (default: AWS_PROFILE, then the default credential chain).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,

    /// AWS region (default: AWS_REGION / the profile's region).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// Send requests here instead of AWS (a local emulator, a VPC endpoint); also
    /// AWS_ENDPOINT_URL.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,

    /// Most attempts per AWS call (throttling, 5xx and dropped connections are retried with
    /// backoff).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub max_attempts: u32,
}

/// Loads the SDK configuration.
pub async fn sdk_config(args: &AwsArgs) -> Result<SdkConfig> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::adaptive().with_max_attempts(args.max_attempts.max(1)))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_attempt_timeout(Duration::from_secs(30))
                .build(),
        );
    if let Some(profile) = &args.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &args.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(url) = &args.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    let config = loader.load().await;
    if config.region().is_none() {
        bail!("no AWS region: give --region, or set AWS_REGION or a region in the profile");
    }
    Ok(config)
}
