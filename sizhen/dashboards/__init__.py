"""Dashboards (一指标一页面, 领导驾驶舱): pages that only read precomputed indicator values."""
