from django.urls import re_path

from accounts.api import views

# Every pattern accepts an optional trailing slash, as RAGFlow's routes do.
urlpatterns = [
    re_path(r"^users/?$", views.RegisterView.as_view(), name="user-register"),
    re_path(r"^users/me/?$", views.MeView.as_view(), name="user-me"),
    re_path(r"^auth/login/?$", views.LoginView.as_view(), name="auth-login"),
    re_path(r"^auth/logout/?$", views.LogoutView.as_view(), name="auth-logout"),
    re_path(r"^system/tokens/?$", views.TokenListCreateView.as_view(), name="api-token-list"),
    re_path(r"^system/tokens/(?P<token>[^/]+)/?$", views.TokenDeleteView.as_view(), name="api-token-detail"),
]
