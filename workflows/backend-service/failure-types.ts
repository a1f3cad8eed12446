/** ApplicationFailure types the workflow uses; the API maps each to an HTTP answer. */
export const FailureType = {
  /** Refused on state alone (validator): 409 with currentStatus. */
  InvalidTransition: 'InvalidTransition',
  /** If-Match revision is not the current one: 412. */
  RevisionMismatch: 'RevisionMismatch',
  /** Approve names a revision or policy hash that is not what is under review: 409. */
  StaleReview: 'StaleReview',
  /** An administrator approving their own service: 403. */
  SelfApproval: 'SelfApproval',
  /** Not allowed for this caller: 403. */
  Forbidden: 'Forbidden',
  /** A field that may not change: 400 naming it. */
  InvalidInput: 'InvalidInput',
  /** Accepted update whose fresh JWKS check failed: 409 with the report. */
  CredentialsInvalid: 'CredentialsInvalid',
  /** The change was applied, but the read model refused it for good (see projectionError): 503. */
  ProjectionFailed: 'ProjectionFailed',
  /** A deactivation cancelled the job this update was waiting for: 409. */
  CancelledByDeactivation: 'CancelledByDeactivation',
  /** Aidbox refused the update's change, or kept failing for its rounds (status and kind only): 502. */
  ProvisioningFailed: 'ProvisioningFailed',
  /** The command's token is missing, forged, expired, replayed or for another workflow or argument: 403. */
  CommandNotAuthorized: 'CommandNotAuthorized',
} as const;
