"""The first-contact clock (首次联系) and the escalation tiers (升级督办): requests dispatched
before this migration have no clock and start at tier 0 (docs/decisions/0011-request-escalation.md)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('enterprise_requests', '0003_first_accepted_at'),
    ]

    operations = [
        migrations.AddField(
            model_name='enterpriserequest',
            name='escalated_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='最近升级时间'),
        ),
        migrations.AddField(
            model_name='enterpriserequest',
            name='escalation_tier',
            field=models.PositiveSmallIntegerField(choices=[(0, '未升级'), (1, '一级：提级单位负责人'), (2, '二级：提级市级专班'), (3, '三级：挂牌督办')], default=0, verbose_name='升级督办级别'),
        ),
        migrations.AddField(
            model_name='enterpriserequest',
            name='first_contact_due',
            field=models.DateTimeField(blank=True, null=True, verbose_name='首次联系时限'),
        ),
        migrations.AddField(
            model_name='enterpriserequest',
            name='first_contacted_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='首次联系时间'),
        ),
        migrations.AddField(
            model_name='requestcategory',
            name='first_contact_hours',
            field=models.PositiveSmallIntegerField(blank=True, help_text='派单后主办单位联系企业的时限，按自然小时计；留空采用系统设置（默认 12 小时）', null=True, verbose_name='首次联系时限（小时）'),
        ),
        migrations.AlterField(
            model_name='requestmessage',
            name='kind',
            field=models.CharField(choices=[('supplement_question', '请企业补充材料'), ('supplement_answer', '企业补充材料'), ('reply', '答复'), ('note', '办理记录'), ('co_opinion', '协办意见'), ('urge', '催办'), ('explanation', '不满意情况说明'), ('coordination', '协调会记录'), ('progress', '进展报告'), ('contact', '联系企业'), ('escalation', '升级督办')], max_length=30, verbose_name='类型'),
        ),
    ]
