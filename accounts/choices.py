from django.db import models


class TenantRole(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    NORMAL = "normal", "Normal"
    INVITE = "invite", "Invited"
