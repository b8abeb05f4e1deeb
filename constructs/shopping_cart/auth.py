"""Auth: the Cognito user pool of the shop, its web client and the admin group."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Annotations, Duration, RemovalPolicy, Validations
from aws_cdk import aws_cognito as cognito

from constructs import Construct

_EXISTING_POOL_OWNS = (
    "Auth: with existing_user_pool, the pool's MFA, email and deletion protection are its own: leave "
    "mfa, deletion_protection and ses_* unset"
)


class Auth(Construct):
    """A Cognito user pool for shoppers: email as the user name, self sign-up with email verification.

    Keyword properties:
        admin_group: name of the group whose members may read the cart totals.
        enable_password_auth: also allow USER_PASSWORD_AUTH on the client (SRP is enough for browsers;
            scripts and local emulators may want plain password auth).
        mfa: MFA mode; OPTIONAL lets shoppers turn on TOTP (authenticator app) MFA.
        password_min_length: minimum password length; upper/lower case, digits and symbols are required.
        removal_policy: what happens to the user pool when the stack is deleted.
        deletion_protection: refuse to delete the user pool (default: on unless removal_policy is DESTROY).
        id_token_validity / access_token_validity / refresh_token_validity: token lifetimes.
        ses_from_address: send Cognito's email (sign-up codes, password resets) through Amazon SES from
            this verified address (or an address of a verified domain, ``ses_verified_domain``). Without
            it, Cognito's default sender is used, which Cognito limits to about 50 emails a day per
            account (its quotas page): fine for trying the shop, not for running one; synth warns.
        ses_from_name, ses_reply_to: the sender's display name and a reply-to address.
        ses_region: the region of the verified SES identity (Cognito supports some alternates of the
            pool's region); required when the stack's region is not known at synth time.
        ses_configuration_set: an SES configuration set (event publishing, dedicated IPs).
        existing_user_pool: a user pool of the app's to use instead (then the pool's own settings
            apply: ``mfa``, ``password_min_length``, ``removal_policy``, ``deletion_protection`` and
            ``ses_*`` are the new pool's and must stay unset or default); the web client and the admin
            group are added to it.
        existing_user_pool_client: its app client, instead of a new web client (only with
            ``existing_user_pool``; the client must allow SRP and have no secret: the storefront signs
            in from the browser).
        create_admin_group: create the ``admin_group`` group (False: it exists in the pool already).

    Attributes: ``user_pool``, ``user_pool_client``, ``admin_group`` (the group construct, None when
    not created here) and ``admin_group_name``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        admin_group: str = "admin",
        enable_password_auth: bool = False,
        mfa: cognito.Mfa = cognito.Mfa.OPTIONAL,
        password_min_length: int = 8,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        deletion_protection: bool | None = None,
        id_token_validity: Duration = Duration.hours(1),
        access_token_validity: Duration = Duration.hours(1),
        refresh_token_validity: Duration = Duration.days(30),
        ses_from_address: str | None = None,
        ses_from_name: str | None = None,
        ses_reply_to: str | None = None,
        ses_region: str | None = None,
        ses_configuration_set: str | None = None,
        ses_verified_domain: str | None = None,
        existing_user_pool: cognito.IUserPool | None = None,
        existing_user_pool_client: cognito.IUserPoolClient | None = None,
        create_admin_group: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        if password_min_length < 8:
            raise ValueError("password_min_length must be at least 8")
        if existing_user_pool_client is not None and existing_user_pool is None:
            raise ValueError("Auth: existing_user_pool_client needs its existing_user_pool")
        ses = {
            "from_address": ses_from_address,
            "from_name": ses_from_name,
            "reply_to": ses_reply_to,
            "region": ses_region,
            "configuration_set": ses_configuration_set,
            "verified_domain": ses_verified_domain,
        }
        if existing_user_pool is not None:
            if any(ses.values()) or deletion_protection is not None or mfa != cognito.Mfa.OPTIONAL:
                raise ValueError(_EXISTING_POOL_OWNS)
            self.user_pool: cognito.IUserPool = existing_user_pool
        else:
            self.user_pool = self._user_pool(
                mfa=mfa,
                password_min_length=password_min_length,
                email=_email(self, **ses),
                removal_policy=removal_policy,
                deletion_protection=deletion_protection,
            )
            _acknowledge_user_pool(self.user_pool)
        self.user_pool_client = existing_user_pool_client or self._web_client(
            enable_password_auth, id_token_validity, access_token_validity, refresh_token_validity
        )
        self.admin_group_name = admin_group
        self.admin_group: cognito.UserPoolGroup | None = None
        if create_admin_group:
            self.admin_group = cognito.UserPoolGroup(
                self,
                "AdminGroup",
                user_pool=self.user_pool,
                group_name=admin_group,
                description="Shop administrators: may read the product totals across all carts",
            )

    def _web_client(
        self,
        enable_password_auth: bool,
        id_token_validity: Duration,
        access_token_validity: Duration,
        refresh_token_validity: Duration,
    ) -> cognito.UserPoolClient:
        """The storefront's client: SRP (and optionally password) sign-in, no secret, no OAuth."""
        return self.user_pool.add_client(
            "WebClient",
            generate_secret=False,
            auth_flows=cognito.AuthFlow(user_srp=True, user_password=enable_password_auth),
            disable_o_auth=True,
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            id_token_validity=id_token_validity,
            access_token_validity=access_token_validity,
            refresh_token_validity=refresh_token_validity,
        )

    def _user_pool(
        self,
        *,
        mfa: cognito.Mfa,
        password_min_length: int,
        email: cognito.UserPoolEmail | None,
        removal_policy: RemovalPolicy,
        deletion_protection: bool | None,
    ) -> cognito.UserPool:
        return cognito.UserPool(
            self,
            "UserPool",
            sign_in_aliases=cognito.SignInAliases(email=True, username=False),
            sign_in_case_sensitive=False,
            self_sign_up_enabled=True,
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            keep_original=cognito.KeepOriginalAttrs(email=True),
            user_verification=cognito.UserVerificationConfig(
                email_style=cognito.VerificationEmailStyle.CODE,
                email_subject="Your shopping cart verification code",
                email_body="Your verification code is {####}",
            ),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True)
            ),
            password_policy=cognito.PasswordPolicy(
                min_length=password_min_length,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            mfa=mfa,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            email=email,
            removal_policy=removal_policy,
            deletion_protection=(
                removal_policy != RemovalPolicy.DESTROY
                if deletion_protection is None
                else deletion_protection
            ),
        )


def _email(
    scope: Construct,
    *,
    from_address: str | None,
    from_name: str | None,
    reply_to: str | None,
    region: str | None,
    configuration_set: str | None,
    verified_domain: str | None,
) -> cognito.UserPoolEmail | None:
    """Cognito's email through SES from ``from_address``; None: Cognito's default sender."""
    if from_address:
        return cognito.UserPoolEmail.with_ses(
            from_email=from_address,
            from_name=from_name or None,
            reply_to=reply_to or None,
            ses_region=region or None,
            configuration_set_name=configuration_set or None,
            ses_verified_domain=verified_domain or None,
        )
    # Info, not a warning: every warning fails synth here (annotationsInValidationReport). The app
    # prints a warning of its own (app.py).
    Annotations.of(scope).add_info(
        "The user pool sends sign-up codes and password resets with Cognito's default email "
        "sender, which Cognito limits to about 50 emails a day: set sesFromAddress (and sesRegion) "
        "to send them through Amazon SES.",
    )
    return None


def _acknowledge_user_pool(user_pool: cognito.IUserPool) -> None:
    Validations.of(user_pool).acknowledge(
        Acknowledgment(
            id="AwsSolutions-COG2",
            reason="MFA is optional by design: shoppers sign up with an email address alone and may "
            "turn on TOTP MFA; requiring it would put a second factor in front of every purchase.",
        ),
        Acknowledgment(
            id="AwsSolutions-COG3",
            reason="Threat protection (advanced security) needs the Cognito Plus feature plan; this "
            "shop keeps the Essentials plan and relies on the password policy and optional MFA.",
        ),
        Acknowledgment(
            id="AwsSolutions-COG8",
            reason="The Plus feature plan is billed per monthly active user; a shop's customer pool "
            "stays on Essentials (see COG3).",
        ),
    )
