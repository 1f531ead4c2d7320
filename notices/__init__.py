"""Notices: who is told what, through which channel, with evidence.

- :mod:`notices.routing` resolves roles to people and their channels (never addresses);
- :mod:`notices.kinds` is the registry of notice kinds: the generic ones are registered by
  :mod:`notices.templates`, each procedure registers its own (the notices layer names none);
- :mod:`notices.templates` renders each kind of notice, full form and SMS form, from a typed
  context, with personal data masked (:mod:`notices.masking`);
- :mod:`notices.delivery` fans out through Apprise with claims, retries, fallback and evidence;
- :mod:`notices.plugins` holds regflows' own Apprise plugins (vendor-checked bots, the outbox);
- :mod:`notices.acks` and :mod:`notices.ack_server` issue and accept signed acknowledgement links
  (the endpoint also serves the routes procedures bring, passed in by the composition root);
- :mod:`notices.escalation` escalates what nobody acknowledged;
- :mod:`notices.service` is the one entry point procedures call: ``send_notice``.
"""
