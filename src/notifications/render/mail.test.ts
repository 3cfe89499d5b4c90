import { describe, expect, it } from 'vitest';
import { mailMessage } from './mail.js';
import { HOSTILE, hostileMessage, manyJobsMessage, sampleMessage, waitingMessage } from './sample.js';

describe('mailMessage', () => {
  it('has the title as subject, the facts and a "View run" button', () => {
    const mail = mailMessage(sampleMessage());
    expect(mail.subject).toBe('✅ release #12 passed');
    expect(mail.html).toContain('<html lang="en">');
    expect(mail.html).toContain('>Started by</td>');
    expect(mail.html).toContain('>alice</td>');
    expect(mail.html).toMatch(
      /<a href="https:\/\/signoff\.example\.com\/runs\/42" style="[^"]+">View run<\/a>/,
    );
    expect(mail.text).toContain('Started by: alice');
    expect(mail.text).toContain('View run: https://signoff.example.com/runs/42');
  });

  it.each([
    ['passed', '#1f9d55'],
    ['failed', '#d93026'],
    ['cancelled', '#8c8c8c'],
    ['waiting_for_approval', '#e8710a'],
    ['running', '#3270e3'],
  ] as const)('has a status bar coloured for %s', (status, colour) => {
    expect(mailMessage(sampleMessage({ status })).html).toContain(`border-top:6px solid ${colour}`);
  });

  it('speaks zh-CN', () => {
    const mail = mailMessage(waitingMessage({ language: 'zh-CN' }));
    expect(mail.subject).toBe('⏳ release #12 等待审批（deploy）');
    expect(mail.html).toContain('>待审批人</td>');
    expect(mail.html).toContain('>bob、carol</td>');
    expect(mail.html).toContain('>截止时间</td>');
    expect(mail.html).toContain('>查看运行</a>');
    expect(mail.html).toContain('>在飞书中打开</a>');
    expect(mail.text).toContain('待审批人：bob、carol');
  });

  it('HTML-escapes every value and keeps the subject on one line', () => {
    const message = hostileMessage({
      custom: { title: `a\r\nBcc: x@example.com ${HOSTILE}`, content: null, format: 'html' },
    });
    const mail = mailMessage(message);
    expect(mail.subject).not.toMatch(/[\r\n]/);
    expect(mail.html).not.toContain('<script');
    expect(mail.html).not.toContain('<at ');
    expect(mail.html).not.toContain('<@all>');
    expect(mail.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(mail.html).toContain('job reason {{ 7*6 }} &lt;script&gt;');
    expect(mail.text).toContain('job reason {{ 7*6 }} <script>');
  });

  it('shows author HTML in place of the facts; plain author text is escaped', () => {
    const rich = mailMessage(
      sampleMessage({ custom: { title: null, content: '<p>Shipped <b>1.2.3</b></p>', format: 'html' } }),
    );
    expect(rich.html).toContain('<p>Shipped <b>1.2.3</b></p>');
    expect(rich.html).not.toContain('>Started by</td>');
    expect(rich.html).toContain('>View run</a>');
    expect(rich.text).toContain('Shipped 1.2.3');
    const plain = mailMessage(
      sampleMessage({ custom: { title: null, content: '<b>x</b>\ny', format: 'plain' } }),
    );
    expect(plain.html).toContain('&lt;b&gt;x&lt;/b&gt;<br>y');
  });

  it('lists the approvers with their decisions and comments', () => {
    const mail = mailMessage(waitingMessage());
    expect(mail.html).toContain('>dave</td>');
    expect(mail.html).toContain('✅ Approved');
    expect(mail.html).toContain('LGTM');
    expect(mail.text).toContain('Step 1: dave ✅ Approved “LGTM”');
  });

  it('handles 500 jobs', () => {
    const mail = mailMessage(manyJobsMessage(500));
    expect(mail.html).toMatch(/… and \d+ more/);
    expect(mail.html).toContain('job-013');
  });
});
