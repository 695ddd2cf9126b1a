from django.urls import URLPattern, path

from sizhen.surveys import views, views_answer, views_follow_up, views_rounds

app_name = "surveys"

urlpatterns: list[URLPattern] = [
    path("", views.QuestionnaireListView.as_view(), name="questionnaire_list"),
    path("import/", views.import_page, name="import"),
    path("bank/", views.BankListView.as_view(), name="bank_list"),
    path("q/<slug:code>/", views.questionnaire_detail, name="questionnaire_detail"),
    path("q/<slug:code>/preview/", views_answer.preview, name="preview"),
    path("q/<slug:code>/xlsform/", views.export_xlsform, name="export_xlsform"),
    path("q/<slug:code>/publish/<int:number>/", views.publish, name="publish"),
    path("q/<slug:code>/rounds/new/", views.round_create, name="round_create"),
    path("rounds/", views_rounds.RoundListView.as_view(), name="round_list"),
    path("rounds/<int:pk>/", views_rounds.round_detail, name="round_detail"),
    path("rounds/<int:pk>/rates/", views_rounds.round_rates, name="round_rates"),
    path("rounds/<int:pk>/step/<slug:action>/", views_rounds.round_step, name="round_step"),
    path("rounds/<int:pk>/invite/", views_rounds.round_invite, name="round_invite"),
    path("rounds/<int:pk>/remind/", views_rounds.round_remind, name="round_remind"),
    path("rounds/<int:pk>/links/", views_rounds.round_links, name="round_links"),
    path(
        "rounds/<int:pk>/invitations/",
        views_rounds.InvitationListView.as_view(),
        name="invitation_list",
    ),
    path("rounds/<int:pk>/results/", views_rounds.round_results, name="round_results"),
    path(
        "rounds/<int:pk>/index/",
        views_follow_up.round_index_publish,
        name="round_index_publish",
    ),
    path("responses/", views_rounds.ResponseListView.as_view(), name="response_list"),
    path("responses/<int:pk>/", views_rounds.response_detail, name="response_detail"),
    path(
        "responses/<int:pk>/follow-up/",
        views_follow_up.response_follow_up,
        name="response_follow_up",
    ),
    path("mine/", views_answer.mine, name="mine"),
    path("mine/<int:pk>/", views_answer.answer, name="answer"),
    path("t/<str:token>/", views_answer.answer_link, name="answer_link"),
]
