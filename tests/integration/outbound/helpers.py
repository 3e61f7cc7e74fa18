"""Shared bits of the outbound integration tests."""
import smtplib
import threading

from lib.mta import MtaNode

RELAY = 'relay_hosts = ( "127.0.0.0/8" )'


def route_config(routes, **domain_options):
    """Domain stanzas: {"example.test": "smtp://127.0.0.1:2600", ...} plus options for each."""
    out = []
    for domain, route in routes.items():
        opts = "".join(f"  {k} = {v}\n" for k, v in domain_options.items())
        out.append(f'Domain "{domain}" {{\n  Routes = ( "{route}" )\n{opts}}}\n')
    return "".join(out)


def node(tmp_path, extra_config="", global_options="", name="n1", host="127.0.0.1"):
    return MtaNode(tmp_path, host=host, listener_options=RELAY, extra_config=extra_config,
                   global_options=global_options, node_name=name)


def send(node, mail_from, rcpts, subject="test", body="hello\r\n", count=1):
    with smtplib.SMTP(node.host, node.port, timeout=30) as s:
        for i in range(count):
            msg = f"Subject: {subject} {i}\r\nMessage-ID: <{subject}.{i}@src.test>\r\n\r\n{body}"
            s.sendmail(mail_from, rcpts, msg)


def send_in_parallel(node, rcpt, sessions, count):
    """`sessions` clients at once, each sending `count` messages to `rcpt`."""
    threads = [threading.Thread(target=send, args=(node, "a@src.test", [rcpt]),
                                kwargs={"subject": f"p{i}", "count": count})
               for i in range(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)


def mainlog(node, kind):
    """Split mainlog lines of one record type (D, T, P, R)."""
    return [l.split("@") for l in node.log_lines("mainlog.ec") if f"@{kind}@" in l]


def bouncelog(node):
    return [l.split("@") for l in node.log_lines("bouncelog.ec") if "@B@" in l]
