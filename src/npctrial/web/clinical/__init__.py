"""Clinical workflow of the EDC: CRFs after enrolment, follow-up, sign-off and lock, reports, exports."""
