"""Print a new API key for a user's tenant, creating the user first when asked."""

import secrets

from django.core.management.base import BaseCommand, CommandError

from accounts import services
from accounts.models import User
from ragflow_site.exceptions import RagflowError


class Command(BaseCommand):
    help = "Create an API key for the tenant of the user with --email and print it (shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True, help="Email of the user whose tenant gets the key.")
        parser.add_argument(
            "--create-user",
            action="store_true",
            help="Register the user first when no user has this email (prints the generated password).",
        )
        parser.add_argument("--nickname", help="Nickname for a user created with --create-user.")

    def handle(self, *args, email: str, create_user: bool, nickname: str | None, **options):
        user = User.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            if not create_user:
                raise CommandError(f"No user has the email {email}; add --create-user to register one.")
            password = secrets.token_urlsafe(12)
            try:
                user = services.register_user(
                    email=email, nickname=nickname or email.split("@", 1)[0], password=password
                )
            except RagflowError as error:
                raise CommandError(error.message) from None
            self.stderr.write(f"Created user {user.email} with password {password}")
        _, key = services.create_api_key(tenant_id=user.id, created_by=user)
        self.stdout.write(key)
