"""The EDC core app: studies, protocol versions, sites and roles, screening, subjects,
randomisation, data queries, the audit trail and the JSON API."""
