import { describe, it, expect, vi } from 'vitest'
import { mount, flushPromises } from '@vue/test-utils'
import ImportReport from '../src/components/ImportReport.vue'
import AccountForm from '../src/components/AccountForm.vue'
import StatusBadge from '../src/components/StatusBadge.vue'
import BarChart from '../src/components/BarChart.vue'
import { ApiError } from '../src/api.js'

describe('ImportReport', () => {
  it('renders totals and one row per entry with the rejection reason', () => {
    const report = {
      created: 2, updated: 1, rejected: 1,
      entries: [
        { index: 0, line: 1, result: 'created', id: 7, name: 'a' },
        { index: 1, line: 2, result: 'updated', id: 3, name: 'b' },
        { index: 2, line: 3, result: 'rejected', reason: 'csesidx: must be decimal digits' },
        { index: 3, line: 0, result: 'created', id: 8, name: 'json-entry' },
      ],
    }
    const w = mount(ImportReport, { props: { report } })
    expect(w.find('.total-created').text()).toBe('2')
    expect(w.find('.total-updated').text()).toBe('1')
    expect(w.find('.total-rejected').text()).toBe('1')
    const rows = w.findAll('.report-row')
    expect(rows).toHaveLength(4)
    const rej = w.find('.report-row[data-result=rejected]')
    expect(rej.text()).toContain('3')
    expect(rej.text()).toContain('csesidx: must be decimal digits')
    expect(rows[0].text()).toContain('#7')
    expect(rows[3].find('td').text()).toBe('#4') // JSON entries have no line: index+1
  })
  it('shows a placeholder for an empty report', () => {
    const w = mount(ImportReport, { props: { report: { created: 0, updated: 0, rejected: 0, entries: [] } } })
    expect(w.text()).toContain('No entries')
  })
})

function fakeStore(impl) {
  return { state: { busy: {}, tests: {} }, create: vi.fn(impl), update: vi.fn(impl) }
}

describe('AccountForm', () => {
  it('shows per-field validation messages from the API next to each field', async () => {
    const store = fakeStore(async () => {
      throw new ApiError({ status: 400, code: 'validation_failed', message: 'csesidx: must be decimal digits',
        fields: { csesidx: 'must be decimal digits', proxy: 'must be an http(s):// or socks5(h):// URL' } })
    })
    const w = mount(AccountForm, { props: { store }, attachTo: document.body })
    await w.find('#f-csesidx').setValue('12a')
    await w.find('#f-config_id').setValue('cfg')
    await w.find('#f-secure_c_ses').setValue('SECRET')
    await w.find('#f-proxy').setValue('ftp://x')
    await w.find('form').trigger('submit')
    await flushPromises()
    expect(store.create).toHaveBeenCalledOnce()
    expect(store.create.mock.calls[0][0]).toMatchObject({ csesidx: '12a', config_id: 'cfg', secure_c_ses: 'SECRET' })
    const errs = w.findAll('.field-error')
    expect(errs.map((e) => e.attributes('data-field')).sort()).toEqual(['csesidx', 'proxy'])
    expect(w.find('.field-error[data-field=csesidx]').text()).toBe('must be decimal digits')
    expect(w.find('#f-csesidx').classes()).toContain('input-error')
    expect(w.find('#f-csesidx').attributes('aria-invalid')).toBe('true')
    expect(w.find('#f-name').classes()).not.toContain('input-error')
    expect(w.emitted('saved')).toBeUndefined()
    w.unmount()
  })
  it('shows non-field errors (conflict, unreachable) as a banner', async () => {
    const store = fakeStore(async () => { throw new ApiError({ status: 409, code: 'conflict', message: 'an account with the same (csesidx, config_id) exists' }) })
    const w = mount(AccountForm, { props: { store } })
    await w.find('form').trigger('submit')
    await flushPromises()
    expect(w.find('.form-error').text()).toContain('same (csesidx, config_id) exists')
    expect(w.findAll('.field-error')).toHaveLength(0)
  })
  it('edit: shows masked secrets only as placeholders and does not send them back', async () => {
    const account = { id: 3, name: 'team-a', csesidx: '2026', config_id: 'cfg', secure_c_ses: 'CSE.…[148]', host_c_oses: '', proxy: '', note: 'n' }
    const store = fakeStore(async () => ({ ...account }))
    const w = mount(AccountForm, { props: { store, account } })
    const sec = w.find('#f-secure_c_ses')
    expect(sec.element.value).toBe('')
    expect(sec.attributes('type')).toBe('password')
    expect(sec.attributes('placeholder')).toContain('CSE.…[148]')
    expect(w.html()).not.toContain('value="CSE.')
    await w.find('#f-name').setValue('renamed')
    await w.find('form').trigger('submit')
    await flushPromises()
    expect(store.update).toHaveBeenCalledOnce()
    const [id, form] = store.update.mock.calls[0]
    expect(id).toBe(3)
    expect(form.name).toBe('renamed')
    expect(form.secure_c_ses).toBe('')
    expect(w.emitted('saved')).toHaveLength(1)
  })
})

describe('StatusBadge', () => {
  it('shows the cooldown countdown and reason', () => {
    const now = Date.now()
    const w = mount(StatusBadge, { props: { now, account: { status: 'cooldown', until: new Date(now + 65000).toISOString(), reason: '429 RESOURCE_EXHAUSTED' } } })
    expect(w.find('.status-badge').attributes('data-status')).toBe('cooldown')
    expect(w.find('.status-badge').classes().join(' ')).toContain('amber')
    expect(w.find('.cooldown-until').text()).toMatch(/^until \d\d:\d\d:\d\d \(1m 05s\)$/)
    expect(w.find('.status-reason').text()).toBe('429 RESOURCE_EXHAUSTED')
  })
  it('uses distinct colours per status', () => {
    const cls = (status) => mount(StatusBadge, { props: { account: { status } } }).find('.status-badge').classes().join(' ')
    expect(cls('active')).toContain('emerald')
    expect(cls('expired')).toContain('red')
    expect(cls('disabled')).toContain('slate')
  })
})

describe('BarChart', () => {
  it('draws one bar per minute and an error overlay', () => {
    const points = Array.from({ length: 60 }, (_, i) => ({ t: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(), requests: i % 10, errors: i === 5 ? 2 : 0 }))
    const w = mount(BarChart, { props: { points } })
    const rects = w.findAll('rect')
    expect(rects.filter((r) => r.attributes('fill') === '#0ea5e9')).toHaveLength(60)
    expect(rects.filter((r) => r.attributes('fill') === '#ef4444')).toHaveLength(1)
    expect(w.text()).not.toContain('no data')
  })
  it('says so when there is no data', () => {
    expect(mount(BarChart, { props: { points: [] } }).text()).toContain('no data yet')
  })
})
