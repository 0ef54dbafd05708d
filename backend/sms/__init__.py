"""Text messages (短信): one pluggable sender for every feature, and the verification codes that
sign-up and password resets send with it.

``service.send_sms(phone, template, params, settings=...)`` is the one way out: it caps what a
phone may be sent in a day, sends through the provider ``WANGGE_SMS`` names (``console``,
``aliyun``, ``tencent``) and records each message (never its text: it may hold a code). A
provider that fails is ``SmsUnavailable`` (503 ``sms_unavailable``), never a 500.
"""
