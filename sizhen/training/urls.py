from django.urls import URLPattern, path

from sizhen.training import views, views_exams

app_name = "training"

urlpatterns: list[URLPattern] = [
    path("", views.mine, name="mine"),
    path("materials/", views.MaterialListView.as_view(), name="material_list"),
    path("materials/new/", views.material_create, name="material_create"),
    path("materials/<int:pk>/", views.material_detail, name="material_detail"),
    path("materials/<int:pk>/edit/", views.material_edit, name="material_edit"),
    path("materials/<int:pk>/file/", views.material_file, name="material_file"),
    path("materials/<int:pk>/progress/", views.material_progress, name="material_progress"),
    path("courses/", views.CourseListView.as_view(), name="course_list"),
    path("courses/new/", views.course_create, name="course_create"),
    path("courses/<int:pk>/", views.course_detail, name="course_detail"),
    path("courses/<int:pk>/assign/", views.course_assign, name="course_assign"),
    path("questions/", views_exams.QuestionListView.as_view(), name="question_list"),
    path("questions/new/", views_exams.question_create, name="question_create"),
    path("questions/import/", views_exams.question_import, name="question_import"),
    path("questions/import/template/", views_exams.question_template, name="question_template"),
    path("questions/<int:pk>/", views_exams.question_edit, name="question_edit"),
    path("exams/", views_exams.exam_list, name="exam_list"),
    path("exams/new/", views_exams.exam_create, name="exam_create"),
    path("exams/<int:pk>/", views_exams.exam_detail, name="exam_detail"),
    path("exams/<int:pk>/step/<slug:action>/", views_exams.exam_step, name="exam_step"),
    path("exams/<int:pk>/start/", views_exams.exam_start, name="exam_start"),
    path("exams/<int:pk>/report.<slug:kind>", views_exams.exam_report, name="exam_report"),
    path("exams/attempts/<int:pk>/", views_exams.attempt_detail, name="attempt_detail"),
    path("exams/attempts/<int:pk>/answer/", views_exams.attempt_answer, name="attempt_answer"),
    path("exams/attempts/<int:pk>/submit/", views_exams.attempt_submit, name="attempt_submit"),
    path("wrong/", views_exams.wrong_book, name="wrong_book"),
    path("wrong/<int:pk>/practice/", views_exams.wrong_practise, name="wrong_practise"),
    path("stats/", views_exams.stats, name="stats"),
]
